import { describe, expect, it } from 'vitest';
import type { CheckOptions, CheckSubject } from '../../src/check/index.js';
import { language } from '../../src/check/language.js';

const options: CheckOptions = { lengthRatio: { min: 0.2, max: 5 }, languageMinChars: 20 };

const SENTENCES: Record<string, string> = {
  en: 'The weather is really nice today. Shall we go for a walk in the park?',
  ko: '오늘은 날씨가 정말 좋네요. 공원에 산책하러 갈까요?',
  de: 'Das Wetter ist heute wirklich schön. Sollen wir im Park spazieren gehen?',
  fr: "Il fait vraiment beau aujourd'hui. Allons-nous nous promener dans le parc ?",
  es: 'Hoy hace muy buen tiempo. ¿Vamos a dar un paseo por el parque?',
  ja: '今日は本当にいい天気ですね。公園に散歩に行きましょうか。',
  zh: '今天天气真好。我们去公园散步吧。我们可以在湖边坐一会儿，看看风景。',
};

const check = (answer: string, lang: string, minChars = options.languageMinChars) =>
  language({ sent: SENTENCES['en']!, answer, finishReason: 'stop', lang } satisfies CheckSubject, {
    ...options,
    languageMinChars: minChars,
  });

describe('language', () => {
  it.each(Object.entries(SENTENCES))('%s text reads as %s', (lang, text) => {
    expect(check(text, lang)).toBeNull();
  });

  it.each<[string, string, string]>([
    ['en', 'ko', 'detected en, expected ko'],
    ['de', 'fr', 'detected de, expected fr'],
    ['ko', 'ja', 'detected ko, expected ja'],
    ['fr', 'es', 'detected fr, expected es'],
    ['ja', 'en', 'detected ja, expected en'],
    ['zh', 'de', 'detected zh, expected de'],
  ])('%s text for target %s fails', (source, lang, detail) => {
    expect(check(SENTENCES[source]!, lang)).toBe(detail);
  });

  it.each([
    ['pt-BR', 'O tempo está muito bom hoje. Vamos dar um passeio no parque?'],
    ['zh-Hant', '今天天氣真好。我們去公園散步吧。我們可以在湖邊坐一會兒，看看風景。'],
    ['nb', 'Været er veldig fint i dag. Skal vi gå en tur i parken?'],
    ['ko-KR', SENTENCES['ko']!],
  ])('compares the primary subtag of %s', (lang, text) => {
    expect(check(text, lang)).toBeNull();
  });

  it('ignores sentinels and skips short answers', () => {
    expect(check('⟦0⟧ 다음 코드를 실행하고 ⟦1⟧ 결과를 확인하세요. 그리고 다시 시도해 보세요.', 'ko')).toBeNull();
    expect(check('Hello ⟦0⟧ there', 'ko')).toBeNull();
    expect(check(SENTENCES['en']!, 'ko', 1000)).toBeNull();
  });
});
