import { describe, expect, it } from 'vitest';
import { type CheckOptions, type CheckResult, type CheckSubject, checkOptions, runChecks } from '../../src/check/index.js';
import { lengthRatio } from '../../src/check/length-ratio.js';
import { nonempty } from '../../src/check/nonempty.js';
import { notTruncated } from '../../src/check/not-truncated.js';
import { placeholders } from '../../src/check/placeholders.js';
import { primaryLanguage } from '../../src/check/text.js';
import { unchanged } from '../../src/check/unchanged.js';
import { CHECK_NAMES, type CheckName } from '../../src/config/schema.js';

const options: CheckOptions = { lengthRatio: { min: 0.2, max: 5 }, languageMinChars: 40 };

function subject(partial: Partial<CheckSubject>): CheckSubject {
  return { sent: 'Hello world', answer: '안녕 세상', finishReason: 'stop', lang: 'ko', ...partial };
}

describe('not_truncated', () => {
  it.each([
    ['stop', null],
    [null, null],
    ['content_filter', null],
    ['length', 'the answer was cut off at the token limit (finish_reason: length)'],
  ] as const)('finish_reason %s', (finishReason, expected) => {
    expect(notTruncated(subject({ finishReason }), options)).toBe(expected);
  });
});

describe('nonempty', () => {
  it.each([
    ['Hello', '안녕', null],
    ['Hello', '', 'the answer is empty'],
    ['Hello', ' \n\t', 'the answer is empty'],
    ['', '', null],
    ['  ', '', null],
  ])('%j → %j', (sent, answer, expected) => {
    expect(nonempty(subject({ sent, answer }), options)).toBe(expected);
  });
});

describe('placeholders', () => {
  it.each([
    ['Hi ⟦0⟧, see ⟦1⟧', '안녕 ⟦0⟧, ⟦1⟧ 참조', null],
    ['⟦0⟧ ⟦1⟧', '⟦1⟧ ⟦0⟧', null],
    ['no sentinels', 'aucun', null],
    ['⟦0⟧ x ⟦0⟧', '⟦0⟧ y ⟦0⟧', null],
    ['a ⟦0⟧ b ⟦1⟧ c ⟦2⟧', 'a ⟦0⟧ b ⟦1⟧', 'missing ⟦2⟧'],
    ['a ⟦0⟧', 'a ⟦0⟧ ⟦0⟧ ⟦5⟧', 'extra ⟦0⟧, ⟦5⟧'],
    ['⟦0⟧ ⟦1⟧ ⟦2⟧', '⟦1⟧ ⟦1⟧ ⟦1⟧', 'missing ⟦0⟧, ⟦2⟧; extra ⟦1⟧ ×2'],
    ['⟦0⟧ ⟦0⟧', '⟦0⟧', 'missing ⟦0⟧'],
  ])('%j → %j', (sent, answer, expected) => {
    expect(placeholders(subject({ sent, answer }), options)).toBe(expected);
  });
});

describe('unchanged', () => {
  const echo = 'the answer is identical to the source text';
  it.each<[string, string, string, string | undefined, string | null]>([
    ['Hello world, how are you?', '안녕하세요, 어떻게 지내세요?', 'ko', 'en', null],
    ['Hello world, how are you?', 'Hello world, how are you?', 'ko', 'en', echo],
    ['Hello world, how are you?', '  Hello world, how are you?\n', 'ko', undefined, echo],
    ['PyTorch', 'PyTorch', 'ko', 'en', null],
    ['New York', 'New York', 'fr', 'en', null],
    ['⟦0⟧ ⟦1⟧', '⟦0⟧ ⟦1⟧', 'ko', 'en', null],
    ['Run ⟦0⟧ now', 'Run ⟦0⟧ now', 'de', 'en', null],
    ['Hello world, how are you?', 'Hello world, how are you?', 'en-GB', 'en-US', null],
    ['오늘은 날씨가 정말 좋네요.', '오늘은 날씨가 정말 좋네요.', 'ko', undefined, null],
  ])('%j → %j (%s from %s)', (sent, answer, lang, sourceLang, expected) => {
    const s = sourceLang === undefined ? subject({ sent, answer, lang }) : subject({ sent, answer, lang, sourceLang });
    expect(unchanged(s, options)).toBe(expected);
  });
});

describe('length_ratio', () => {
  const long = 'This sentence is long enough to be judged.'; // 42 chars
  it.each<[string, string, string | null]>([
    [long, 'Cette phrase est assez longue pour être jugée.', null],
    [long, 'Oui.', 'the answer is 0.1× the source length (allowed 0.2–5)'],
    [long, long.repeat(6), 'the answer is 6× the source length (allowed 0.2–5)'],
    ['Short one.', 'x', null],
    ['⟦0⟧ ⟦1⟧ ⟦2⟧ ⟦3⟧ ⟦4⟧ ⟦5⟧ ok', '⟦0⟧ ⟦1⟧ ⟦2⟧ ⟦3⟧ ⟦4⟧ ⟦5⟧ 좋아요 좋아요 좋아요 좋아요 좋아요', null],
    [`${long} ⟦0⟧`, 'Kurz. ⟦0⟧', 'the answer is 0.12× the source length (allowed 0.2–5)'],
  ])('%j → %j', (sent, answer, expected) => {
    expect(lengthRatio(subject({ sent, answer }), options)).toBe(expected);
  });
});

describe('primaryLanguage', () => {
  it.each([
    ['pt-BR', 'pt'],
    ['zh-Hant', 'zh'],
    ['EN_us', 'en'],
    ['ko', 'ko'],
    ['nb', 'no'],
    ['iw', 'he'],
  ])('%s → %s', (code, expected) => {
    expect(primaryLanguage(code)).toBe(expected);
  });
});

describe('runChecks', () => {
  const all: readonly CheckName[] = CHECK_NAMES;
  it.each<[string, Partial<CheckSubject>, readonly CheckName[], CheckResult]>([
    ['all pass', { sent: 'Hello ⟦0⟧', answer: '안녕 ⟦0⟧' }, all, { ok: true }],
    [
      'truncation wins over everything',
      { sent: 'Hello ⟦0⟧', answer: '', finishReason: 'length' },
      all,
      { ok: false, check: 'not_truncated', detail: 'the answer was cut off at the token limit (finish_reason: length)' },
    ],
    ['empty before placeholders', { sent: 'Hello ⟦0⟧', answer: '' }, all, { ok: false, check: 'nonempty', detail: 'the answer is empty' }],
    ['placeholders', { sent: 'Hello ⟦0⟧', answer: '안녕' }, all, { ok: false, check: 'placeholders', detail: 'missing ⟦0⟧' }],
    ['disabled checks are skipped', { sent: 'Hello ⟦0⟧', answer: '안녕' }, ['nonempty'], { ok: true }],
    ['nothing enabled', { answer: '', finishReason: 'length' }, [], { ok: true }],
    [
      'language last',
      {
        sent: 'The weather is really nice today. Shall we go for a walk in the park?',
        answer: 'Das Wetter ist heute wirklich schön. Sollen wir im Park spazieren gehen?',
      },
      all,
      { ok: false, check: 'language', detail: 'detected de, expected ko' },
    ],
  ])('%s', (_name, partial, enabled, expected) => {
    expect(runChecks(subject(partial), enabled, options)).toEqual(expected);
  });
});

describe('checkOptions', () => {
  it('maps the config keys', () => {
    expect(checkOptions({ check_options: { length_ratio: { min: 0.3, max: 4 }, language_min_chars: 25 } })).toEqual({
      lengthRatio: { min: 0.3, max: 4 },
      languageMinChars: 25,
    });
  });
});
