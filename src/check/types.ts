import type { CheckName } from '../config/schema.js';

/** One request's answer, as the checks see it. */
export interface CheckSubject {
  /** The text we sent, with sentinels. */
  sent: string;
  /** The model's answer, with sentinels. */
  answer: string;
  finishReason: string | null;
  /** BCP-47 target language. */
  lang: string;
  sourceLang?: string;
}

export type CheckResult = { ok: true } | { ok: false; check: CheckName; detail: string };

export interface CheckOptions {
  lengthRatio: { min: number; max: number };
  languageMinChars: number;
}

/** A check passes with null, fails with a one-line detail for the reject. */
export type Check = (subject: CheckSubject, options: CheckOptions) => string | null;
