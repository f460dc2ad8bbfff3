/** Text measures shared by the checks: what the model was asked to translate, sentinels aside. */
import { SENTINEL_PATTERN } from '../split/protect.js';

export function withoutSentinels(text: string): string {
  return text.replace(SENTINEL_PATTERN, ' ');
}

export function letterCount(text: string): number {
  return text.match(/\p{L}/gu)?.length ?? 0;
}

/** Length in code points, so an emoji or a CJK character counts once. */
export function codePointLength(text: string): number {
  let length = 0;
  for (const _ of text) length++;
  return length;
}

// Legacy and macro-language codes that name the same language for our purposes.
const ALIASES: Record<string, string> = { nb: 'no', nn: 'no', iw: 'he', in: 'id', ji: 'yi', cmn: 'zh', yue: 'zh' };

/** The primary subtag, lower-cased: "pt-BR" → "pt", "zh-Hant" → "zh". */
export function primaryLanguage(code: string): string {
  const primary = code.split(/[-_]/)[0]!.toLowerCase();
  return ALIASES[primary] ?? primary;
}
