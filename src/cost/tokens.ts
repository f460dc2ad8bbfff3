/** Expected output tokens per language (the chat overheads and counting live in build/request.ts and split/tokens.ts). */

/**
 * How many output tokens a translation into `lang` takes per source token.
 * Rough figures for o200k_base from English; `cost.output_ratio` overrides them.
 */
const DEFAULT_OUTPUT_RATIO: Record<string, number> = {
  en: 1.0,
  de: 1.25,
  fr: 1.25,
  es: 1.2,
  it: 1.25,
  pt: 1.2,
  nl: 1.25,
  ru: 1.35,
  uk: 1.4,
  pl: 1.4,
  tr: 1.4,
  ar: 1.3,
  hi: 1.4,
  ja: 1.2,
  ko: 1.25,
  zh: 1.0,
  vi: 1.3,
  th: 1.4,
};

export function outputRatio(lang: string, overrides: Readonly<Record<string, number>>): number {
  const primary = lang.split('-')[0]!.toLowerCase();
  return overrides[lang] ?? overrides[primary] ?? DEFAULT_OUTPUT_RATIO[primary] ?? 1.3;
}
