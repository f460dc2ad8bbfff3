import { describe, expect, it } from 'vitest';
import { languageName } from '../../src/build/language.js';
import {
  buildMessages,
  DEFAULT_SYSTEM_PROMPT,
  DEFAULT_USER_TEMPLATE,
  type PromptSettings,
  promptSettings,
  renderTemplate,
} from '../../src/build/prompt.js';
import type { PipelineConfig } from '../../src/config/types.js';

type PromptConfig = Pick<PipelineConfig, 'prompt' | 'source_language' | 'language_names' | 'language_notes'>;

function settings(overrides: Partial<Omit<PromptConfig, 'prompt'>> & { prompt?: Partial<PromptConfig['prompt']> } = {}): PromptSettings {
  const { prompt, ...rest } = overrides;
  return promptSettings({
    language_names: {},
    language_notes: {},
    ...rest,
    prompt: { glossary: {}, examples: [], ...prompt },
  });
}

const unit = (text: string, lang = 'ko', field = 'instruction') => ({ text, lang, field });

describe('languageName', () => {
  it.each<[string, Record<string, string>, string]>([
    ['ko', {}, 'Korean'],
    ['pt-BR', {}, 'Brazilian Portuguese'],
    ['zh-Hant', {}, 'Traditional Chinese'],
    ['ko', { ko: 'Korean (polite 해요체 register)' }, 'Korean (polite 해요체 register)'],
    ['pt-br', { 'pt-BR': 'Portuguese (Brazil)' }, 'Portuguese (Brazil)'],
    ['xx', {}, 'xx'],
    ['not a code!', {}, 'not a code!'],
  ])('%s → %s', (code, overrides, expected) => {
    expect(languageName(code, overrides)).toBe(expected);
  });
});

describe('renderTemplate', () => {
  it.each<[string, Record<string, string>, string]>([
    ['Into {{target_language}}: {{text}}', { target_language: 'Korean', text: 'Hi' }, 'Into Korean: Hi'],
    ['{{ lang }}/{{field}}', { lang: 'ko', field: 'a.b' }, 'ko/a.b'],
    ['keep {{unknown}} and {{constructor}}', { text: 'x' }, 'keep {{unknown}} and {{constructor}}'],
    ['{{text}} ({{lang}})', { text: 'literal {{lang}} $& $1 $$', lang: 'ko' }, 'literal {{lang}} $& $1 $$ (ko)'],
    ['{text} {{{text}}}', { text: 'T' }, '{text} {T}'],
  ])('%j', (template, vars, expected) => {
    expect(renderTemplate(template, vars)).toBe(expected);
  });
});

describe('buildMessages', () => {
  it('default prompt with a source language', () => {
    const messages = buildMessages(settings({ source_language: 'en' }), unit('Hello ⟦0⟧'));
    expect(messages).toEqual([
      {
        role: 'system',
        content: DEFAULT_SYSTEM_PROMPT.replace('{{source_language}}', 'English').replace('{{target_language}}', 'Korean'),
      },
      { role: 'user', content: 'Hello ⟦0⟧' },
    ]);
    expect(messages[0]!.content).toMatch(
      /^You are a professional translator working on a dataset\. Translate the user message from English into Korean\.\n/,
    );
    expect(DEFAULT_USER_TEMPLATE).toBe('{{text}}');
  });

  it('default prompt without a source language names none', () => {
    const [system] = buildMessages(settings(), unit('Hallo', 'pt-BR'));
    expect(system!.content).toContain('Translate the user message from its language into Brazilian Portuguese.');
    expect(system!.content).toContain('⟦0⟧');
    expect(system!.content).not.toContain('{{');
  });

  it('custom templates get every variable; the text is inserted literally', () => {
    const s = settings({
      source_language: 'en',
      language_names: { ko: 'Korean (해요체)' },
      prompt: { system: 'From {{source_language}} to {{target_language}} ({{lang}}), field {{field}}.', user: 'Translate:\n\n{{text}}' },
    });
    expect(buildMessages(s, unit('Say {{lang}} and $& and {{text}}', 'ko', 'meta.title'))).toEqual([
      { role: 'system', content: 'From English to Korean (해요체) (ko), field meta.title.' },
      { role: 'user', content: 'Translate:\n\nSay {{lang}} and $& and {{text}}' },
    ]);
  });

  it('adds the language note and only the glossary terms the text uses, sorted', () => {
    const s = settings({
      language_notes: { ko: 'Use the 해요체 register for {{target_language}}.', de: 'Use "Sie".' },
      prompt: {
        system: 'Translate into {{target_language}}.',
        glossary: { PyTorch: 'PyTorch', GPU: 'GPU', dataset: '데이터셋', 'C++': 'C++', 模型: '모델', Java: '자바' },
      },
    });
    const [system] = buildMessages(s, unit('Train a PyTorch model on a GPU with C++ and 模型 datasets, JavaScript too.'));
    expect(system).toEqual({
      role: 'system',
      content: [
        'Translate into Korean.',
        '',
        'Use the 해요체 register for Korean.',
        '',
        'Glossary (always translate these terms this way):',
        'C++ → C++',
        'GPU → GPU',
        'PyTorch → PyTorch',
        '模型 → 모델',
      ].join('\n'),
    });
  });

  it('glossary matching is case-sensitive whole words for ASCII terms', () => {
    const s = settings({ prompt: { system: 'S', glossary: { Apple: '애플', 'e-mail': '이메일' } } });
    const systemFor = (text: string) => buildMessages(s, unit(text))[0]!.content;
    expect(systemFor('I like apple pie')).toBe('S');
    expect(systemFor('Pineapples')).toBe('S');
    expect(systemFor('Apple, e-mail!')).toBe('S\n\nGlossary (always translate these terms this way):\nApple → 애플\ne-mail → 이메일');
  });

  it('few-shot examples for the unit language only, rendered through the user template', () => {
    const s = settings({
      prompt: {
        system: 'S',
        user: '[{{lang}}] {{text}}',
        examples: [
          { source: 'Hello', target: '안녕하세요', lang: 'ko' },
          { source: 'Hello', target: 'Hallo', lang: 'de' },
          { source: 'OK', target: 'OK' },
        ],
      },
    });
    expect(buildMessages(s, unit('Thanks', 'ko'))).toEqual([
      { role: 'system', content: 'S' },
      { role: 'user', content: '[ko] Hello' },
      { role: 'assistant', content: '안녕하세요' },
      { role: 'user', content: '[ko] OK' },
      { role: 'assistant', content: 'OK' },
      { role: 'user', content: '[ko] Thanks' },
    ]);
    expect(buildMessages(s, unit('Thanks', 'fr')).map((m) => m.content)).toEqual(['S', '[fr] OK', 'OK', '[fr] Thanks']);
  });

  it('is deterministic regardless of glossary key order', () => {
    const a = settings({ prompt: { glossary: { b: 'B', a: 'A' } } });
    const b = settings({ prompt: { glossary: { a: 'A', b: 'B' } } });
    const u = unit('a b');
    expect(JSON.stringify(buildMessages(a, u))).toBe(JSON.stringify(buildMessages(b, u)));
    expect(JSON.stringify(buildMessages(a, u))).toBe(JSON.stringify(buildMessages(a, u)));
  });
});
