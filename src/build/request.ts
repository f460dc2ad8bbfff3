/**
 * Build: one chat-completion request per translation unit, in OpenAI's batch
 * input format. Bodies are deterministic (same config + text → same bytes),
 * which makes custom_ids, dedupe and the response cache line up.
 */
import { createHash, hash } from 'node:crypto';
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { countTokens } from '../split/tokens.js';
import { buildMessages, DEFAULT_USER_TEMPLATE, type PromptSettings } from './prompt.js';

export const CHAT_COMPLETIONS_URL = '/v1/chat/completions';

/** Per-message and per-reply overheads of the chat format (OpenAI's published rule of thumb). */
export const CHAT_TOKENS_PER_MESSAGE = 3;
export const CHAT_TOKENS_PER_REPLY = 3;

export interface RequestSettings {
  model: string;
  /** Extra body params from `request:` in the config (temperature, max_tokens, …). */
  params: Readonly<Record<string, unknown>>;
  prompt: PromptSettings;
}

export interface UnitText {
  text: string;
  lang: string;
  field: string;
}

export function buildRequestBody(settings: RequestSettings, unit: UnitText): ChatCompletionCreateParamsNonStreaming {
  return { model: settings.model, messages: buildMessages(settings.prompt, unit), ...settings.params };
}

interface HeadMemo {
  /** JSON of the messages before the user message, each followed by a comma. */
  json: string;
  /** `{"model":…,"messages":[`, `json` and the user message's opening, UTF-8 encoded once: shard writers copy these bytes. */
  bytes: Buffer;
  /** Their exact token count, chat overheads included. */
  tokens: number;
  /** A digest of `json`, so request keys need not hash the long system prompt again. */
  digest: string;
}

/**
 * A built request body: the memoised head bytes (up to the user message's
 * content), then the content as a JSON literal and the tail as text. Writers
 * copy the head and encode the rest; `json` joins them for the few callers
 * that want one string.
 */
export class BuiltBody {
  constructor(
    /** `{"model":…,"messages":[`, the leading messages and `{"role":"user","content":`. */
    readonly head: Buffer,
    /** The user message's content as a JSON string literal. */
    readonly contentJson: string,
    /** `}]`, the body's remaining keys and its closing brace. */
    readonly tail: string,
    readonly userContent: string,
    /** Exact tokens of everything but the user message's content. */
    readonly headTokens: number,
    /** `key` as a binary string (a char a byte), as prepare's dedupe index takes it. */
    readonly binaryKey: string,
  ) {}

  /** Dedupe and response-cache key: a versioned hash of endpoint and body (16 bytes). */
  get key(): Buffer {
    return Buffer.from(this.binaryKey, 'latin1');
  }

  get json(): string {
    return this.head.toString('utf8') + this.contentJson + this.tail;
  }
}

const MEMO_LIMIT = 4096;
const USER_CONTENT_KEY = '{"role":"user","content":';
const TEXT_VARIABLE = /\{\{\s*text\s*\}\}/;
const FIELD_VARIABLE = /\{\{\s*field\s*\}\}/;

/**
 * Builds request bodies as JSON text on the hot path of prepare. The leading
 * messages (system prompt, few-shot examples) repeat across requests: with
 * the default user template and a system prompt that does not quote the
 * text, they depend only on the language, the glossary terms the text uses
 * (and the field, if a template names it), so they are built once per such
 * combination. The JSON is byte-identical to
 * `JSON.stringify(buildRequestBody(…))` (a test holds it to that).
 */
export class RequestBodyWriter {
  private readonly heads = new Map<string, HeadMemo>();
  private readonly model: string;
  private readonly tail: string;
  private readonly fastPath: boolean;
  private readonly headUsesField: boolean;

  /**
   * `countHead` counts the repeated head exactly (gpt-tokenizer, ~65 MB once
   * loaded) or estimates it (`approximateTokens`, within a few percent on
   * English prompts): `estimate` wants the former, a big `run` the latter.
   */
  constructor(
    private readonly settings: RequestSettings,
    private readonly countHead: (text: string) => number = countTokens,
  ) {
    this.model = JSON.stringify(settings.model);
    const params = JSON.stringify(settings.params);
    this.tail = params === '{}' ? '' : `,${params.slice(1, -1)}`;
    const prompt = settings.prompt;
    const notes = Object.values(prompt.languageNotes);
    this.fastPath = prompt.user === DEFAULT_USER_TEMPLATE && !TEXT_VARIABLE.test(prompt.system);
    this.headUsesField = [prompt.system, prompt.user, ...notes].some((template) => FIELD_VARIABLE.test(template));
  }

  /** `extraTail`: more body keys as a JSON fragment (`,"response_format":{…}`) for this request only. */
  build(unit: UnitText, extraTail = ''): BuiltBody {
    if (this.fastPath) {
      const terms = this.settings.prompt.glossary.flatMap((entry, index) => (entry.occursIn(unit.text) ? [index] : []));
      const memoKey = `${unit.lang}\u0000${this.headUsesField ? unit.field : ''}\u0000${terms.join(',')}`;
      let head = this.heads.get(memoKey);
      if (head === undefined) {
        const messages = buildMessages(this.settings.prompt, unit);
        messages.pop();
        head = this.remember(memoKey, messages);
      }
      return this.assemble(head, unit.text, extraTail);
    }
    const messages = buildMessages(this.settings.prompt, unit);
    const user = messages.pop()!;
    const memoKey = messages.map((message) => `${message.role}\u0000${message.content as string}`).join('\u0001');
    const head = this.heads.get(memoKey) ?? this.remember(memoKey, messages);
    return this.assemble(head, typeof user.content === 'string' ? user.content : '', extraTail);
  }

  private remember(memoKey: string, messages: ChatCompletionMessageParam[]): HeadMemo {
    const json = messages.map((message) => `${JSON.stringify(message)},`).join('');
    const head: HeadMemo = {
      json,
      bytes: Buffer.from(`{"model":${this.model},"messages":[${json}${USER_CONTENT_KEY}`),
      tokens: messages.reduce((sum, message) => sum + CHAT_TOKENS_PER_MESSAGE + this.countHead(message.content as string), 0),
      digest: createHash('sha256').update(json).digest('hex'),
    };
    if (this.heads.size >= MEMO_LIMIT) this.heads.clear();
    this.heads.set(memoKey, head);
    return head;
  }

  private assemble(head: HeadMemo, userContent: string, extraTail: string): BuiltBody {
    const user = jsonStringLiteral(userContent);
    const tail = this.tail + extraTail;
    // One-shot hashing: ~3× cheaper than a Hash object per request on prepare's hot path, and
    // a string digest half the cost of a Buffer one (no ArrayBuffer to allocate).
    const key = hash(
      'sha256',
      `transbatch-request-v1\n${CHAT_COMPLETIONS_URL}\n${this.model}\n${head.digest}\n${tail}\n${user}`,
      'binary',
    ).slice(0, 16);
    return new BuiltBody(head.bytes, user, `}]${tail}}`, userContent, head.tokens + CHAT_TOKENS_PER_MESSAGE + CHAT_TOKENS_PER_REPLY, key);
  }
}

/** What JSON.stringify escapes in a string: quotes, backslashes, control characters and (lone) surrogates. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * `JSON.stringify(text)`: most texts need no escape, and quoting them as they
 * are costs a third of what JSON.stringify does (~0.6 µs a request on prepare's hot path).
 */
export function jsonStringLiteral(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/** One line of a batch input file (no trailing newline). */
export function batchLine(customId: string, bodyJson: string): string {
  return `${batchLinePrefix(customId)}${bodyJson}}`;
}

/** What precedes the body in a batch line. */
export function batchLinePrefix(customId: string): string {
  return `${CUSTOM_ID_OPENING}${customId}","method":"POST","url":"${CHAT_COMPLETIONS_URL}","body":`;
}

const CUSTOM_ID_OPENING = '{"custom_id":"';
const QUOTE = 0x22;

/** The custom_id of the batch line at `start` of `bytes` (custom_ids are ASCII without escapes: src/split/custom-id.ts). */
export function customIdAt(bytes: Buffer, start: number): string {
  const from = start + CUSTOM_ID_OPENING.length;
  return bytes.toString('latin1', from, bytes.indexOf(QUOTE, from));
}
