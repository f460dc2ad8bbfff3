import { describe, expect, it } from 'vitest';
import { PROTECT_KINDS } from '../../src/config/schema.js';
import { createEchoEngine } from '../../src/emulator/engines/echo.js';
import { createPseudoEngine } from '../../src/emulator/engines/pseudo.js';
import { PSEUDO_MARKER, pseudoLocalize } from '../../src/emulator/engines/pseudo-text.js';
import { findProtectedSpans } from '../../src/split/protect.js';

const findSpans = (text: string) => findProtectedSpans(text, PROTECT_KINDS);

const PROTECTED = [
  '⟦0⟧',
  '⟦12⟧',
  '`npm install`',
  'https://example.com/path?q=1&x=y',
  'www.example.org/docs',
  'support@example.com',
  '{name}',
  '{{user_name}}',
  '%s',
  '%(count)d',
  '$' + '{total}',
  '<a href="https://x.y">',
  '</a>',
  '<br/>',
  '$E = mc^2$',
  '$$\\int_0^1 x\\,dx$$',
  '&nbsp;',
];

describe('pseudoLocalize', () => {
  it('keeps every protected span intact and transforms the words around them', () => {
    const text = PROTECTED.map((span) => `Hello ${span} world`).join('\n');
    const out = pseudoLocalize(text);
    for (const span of PROTECTED) expect(out).toContain(span);
    expect(out).not.toMatch(/\bHello\b|\bworld\b/);
    expect(out.endsWith(PSEUDO_MARKER)).toBe(true);
  });

  it('keeps fenced code blocks byte for byte', () => {
    const code = '```ts\nconst greeting = "hello world";\n```';
    const out = pseudoLocalize(`Some intro text.\n\n${code}\n\nOutro text.`);
    expect(out).toContain(code);
    expect(out).toContain('Šøømëë');
  });

  it('keeps markdown structure: line starts, tables, indentation, blank lines', () => {
    const text = [
      '# Title here',
      '',
      '- first item',
      '* second item',
      '1. numbered item',
      '> quoted text',
      '',
      '| col a | col b |',
      '|---|---|',
      '| one | two |',
      '    indented code line',
    ].join('\n');
    const out = pseudoLocalize(text);
    const inLines = text.split('\n');
    const outLines = out.split('\n');
    expect(outLines).toHaveLength(inLines.length);
    inLines.forEach((line, index) => {
      const structure = (value: string) => value.replace(/[^\s#*>|.\d-]/g, '').replace(/\s+$/, '');
      expect(structure(outLines[index]!.replace(` ${PSEUDO_MARKER}`, ''))).toBe(structure(line));
    });
    expect(outLines[0]).toMatch(/^# /);
    expect(outLines[2]).toMatch(/^- /);
    expect(outLines[7]).toMatch(/^\| .* \| .* \|$/);
  });

  it('is deterministic, visibly different and 30–40% longer on ordinary prose', () => {
    const prose = 'The quick brown fox jumps over the lazy dog while the children watch from the garden and laugh.';
    const out = pseudoLocalize(prose);
    expect(pseudoLocalize(prose)).toBe(out);
    expect(out).not.toBe(prose);
    expect(out.length / prose.length).toBeGreaterThan(1.3);
    expect(out.length / prose.length).toBeLessThan(1.5);
  });

  it('finds non-overlapping spans, enclosing constructs first', () => {
    const spans = findSpans('see `code with {x}` and https://a.b/{id}');
    // The shared finder (src/split/protect.ts) ends a URL before a `{…}` placeholder and protects that separately.
    expect(spans.map((span) => span.kind)).toEqual(['code', 'urls', 'placeholders']);
  });
});

describe('local engines', () => {
  const jsonBody = (content: string) => ({
    model: 'm',
    messages: [
      { role: 'system' as const, content: 'sys' },
      { role: 'user' as const, content },
    ],
    response_format: { type: 'json_schema' as const, json_schema: { name: 't', schema: { type: 'object' } } },
  });

  it('pseudo in JSON mode answers the same keys, each value transformed', async () => {
    const answer = await createPseudoEngine()(jsonBody(JSON.stringify({ title: 'Hello {name}', body: 'Good morning' })));
    const parsed = JSON.parse(answer.content) as Record<string, string>;
    expect(Object.keys(parsed)).toEqual(['title', 'body']);
    expect(parsed['title']).toContain('{name}');
    expect(parsed['title']).toContain(PSEUDO_MARKER);
    expect(answer.usage.total_tokens).toBe(answer.usage.prompt_tokens + answer.usage.completion_tokens);
  });

  it('echo returns the last user message unchanged and honours max_completion_tokens', async () => {
    const echo = createEchoEngine();
    const answer = await echo({
      model: 'm',
      messages: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'second message' },
      ],
    });
    expect(answer).toMatchObject({ content: 'second message', finish_reason: 'stop' });
    const long = await echo({ model: 'm', max_completion_tokens: 5, messages: [{ role: 'user', content: 'word '.repeat(100) }] });
    expect(long.finish_reason).toBe('length');
    expect(long.usage.completion_tokens).toBe(5);
    expect(long.content.length).toBeLessThan(500);
  });
});
