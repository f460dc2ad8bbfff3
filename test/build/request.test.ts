import { describe, expect, it } from 'vitest';
import { promptSettings } from '../../src/build/prompt.js';
import { buildRequestBody, jsonStringLiteral, RequestBodyWriter, type RequestSettings } from '../../src/build/request.js';

function settings(
  overrides: { system?: string; user?: string; glossary?: Record<string, string>; notes?: Record<string, string> } = {},
): RequestSettings {
  return {
    model: 'gpt-4o-mini',
    params: { temperature: 0, max_tokens: 512 },
    prompt: promptSettings({
      prompt: {
        glossary: overrides.glossary ?? { PyTorch: 'PyTorch', GPU: 'GPU' },
        examples: [{ source: 'Hello', target: '안녕하세요', lang: 'ko' }],
        ...(overrides.system ? { system: overrides.system } : {}),
        ...(overrides.user ? { user: overrides.user } : {}),
      },
      source_language: 'en',
      language_names: {},
      language_notes: overrides.notes ?? { ko: 'Use the polite register.' },
    }),
  };
}

const units = [
  { text: 'Train the model on a GPU with PyTorch.', lang: 'ko', field: 'output' },
  { text: 'Train the model on a GPU.', lang: 'ko', field: 'instruction' },
  { text: 'No glossary terms here: "quotes", \\ and ⟦0⟧.', lang: 'ja', field: 'output' },
  { text: 'PyTorch again, in German.', lang: 'de', field: 'input' },
];

describe('RequestBodyWriter', () => {
  it.each([
    ['default prompts', settings()],
    ['a system prompt naming the field', settings({ system: 'Translate the {{field}} into {{target_language}}.' })],
    ['a system prompt quoting the text', settings({ system: 'Translate: {{text}}' })],
    ['a custom user template', settings({ user: 'Into {{target_language}}:\n\n{{text}}' })],
    ['no glossary and no notes', settings({ glossary: {}, notes: {} })],
  ])('writes exactly JSON.stringify of the body (%s)', (_name, requestSettings) => {
    const writer = new RequestBodyWriter(requestSettings);
    for (const unit of [...units, ...units]) {
      expect(writer.build(unit).json).toBe(JSON.stringify(buildRequestBody(requestSettings, unit)));
    }
  });

  it('gives equal bodies equal keys and different bodies different keys', () => {
    const writer = new RequestBodyWriter(settings());
    const a = writer.build(units[0]!);
    const again = new RequestBodyWriter(settings()).build({ ...units[0]! });
    expect(again.key.equals(a.key)).toBe(true);
    expect(writer.build({ ...units[0]!, lang: 'ja' }).key.equals(a.key)).toBe(false);
    expect(writer.build({ ...units[0]!, text: `${units[0]!.text} ` }).key.equals(a.key)).toBe(false);
    const otherModel = new RequestBodyWriter({ ...settings(), model: 'gpt-4o' }).build(units[0]!);
    expect(otherModel.key.equals(a.key)).toBe(false);
  });

  it('counts the tokens of everything before the user message', () => {
    const built = new RequestBodyWriter(settings({ glossary: {}, notes: {} })).build({ text: 'Hi', lang: 'de', field: 'x' });
    expect(built.headTokens).toBeGreaterThan(100);
    expect(built.userContent).toBe('Hi');
  });
});

describe('jsonStringLiteral', () => {
  it('is JSON.stringify of any string', () => {
    const samples = [
      '',
      'plain ASCII text',
      'quote " and backslash \\',
      'line\nbreak\ttab\r\u0000\u001f\u007f',
      'é 한국어 — “curly” \u2028 \u2029',
      '😀 a surrogate pair',
      'lone high \ud800 and lone low \udc00',
      '</script> & <b>',
    ];
    for (let code = 0; code < 0x110; code++) samples.push(`a${String.fromCharCode(code)}b`);
    for (const text of samples) expect(jsonStringLiteral(text)).toBe(JSON.stringify(text));
  });
});
