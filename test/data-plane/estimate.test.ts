/**
 * `estimate`: request counts exact; token counts equal to an exact o200k_base
 * recount of the shard files (3 tokens per message + 3 per reply: prepare
 * approximates for speed, `estimate` recounts); costs exactly the list price applied to the reported
 * tokens, batch exactly half of sync; unknown models have no price and say so.
 */
import { join } from 'node:path';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCliCapture } from '../helpers/cli.js';
import { makeTempDir, openStateDb, readShards, writeJsonl, writePipeline } from './fixtures.js';

let dir: string;
let cleanup: () => void;

beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
  writeJsonl(join(dir, 'input.jsonl'), [
    { text: 'The quick brown fox jumps over the lazy dog.' },
    { text: 'Visit https://example.com for {count} more examples.' },
    { text: 'The quick brown fox jumps over the lazy dog.' }, // duplicate: sent once per language
    { text: '' }, // nothing to send
    { text: 'Une phrase déjà en français, pour le plaisir.' },
  ]);
});
afterEach(() => cleanup());

const OUTPUT_RATIO = { de: 2, fr: 1.5 };

interface Estimate {
  model: string;
  rows: number;
  requests: number;
  deduplicated: number;
  billableRequests: number;
  inputTokens: number;
  expectedOutputTokens: number;
  batchUsd: number | null;
  syncUsd: number | null;
}

/** Tokens recomputed from what prepare wrote, not from the estimate code. */
function recomputeTokens(runDir: string): { requests: number; input: number; output: number } {
  const lines = readShards(runDir).flatMap((shard) =>
    shard.lines.map((line) => JSON.parse(line) as { custom_id: string; body: { messages: { content: string }[] } }),
  );
  const input = lines.reduce(
    (sum, line) => sum + 3 + line.body.messages.reduce((inner, message) => inner + 3 + countTokens(message.content), 0),
    0,
  );
  // The text of a request is its user message's content (the default user template).
  const texts = lines.map((line) => ({ custom_id: line.custom_id, text: line.body.messages.at(-1)!.content }));
  const output = texts.reduce((sum, { custom_id, text }) => {
    const lang = custom_id.split('.')[2] as keyof typeof OUTPUT_RATIO;
    return sum + Math.ceil(countTokens(text) * OUTPUT_RATIO[lang]);
  }, 0);
  return { requests: lines.length, input, output };
}

describe('estimate', () => {
  it('--json: requests, input and expected output tokens, batch cost half of sync at the gpt-4o-mini price', async () => {
    const config = writePipeline(dir, { target_languages: ['de', 'fr'], cost: { output_ratio: OUTPUT_RATIO } });
    const result = await runCliCapture(['estimate', config, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const estimate = JSON.parse(result.stdout) as Estimate;
    const expected = recomputeTokens(join(dir, 'run'));

    expect(expected.requests).toBe(6); // 3 distinct texts × 2 languages
    expect(estimate).toMatchObject({
      model: 'gpt-4o-mini',
      rows: 5,
      requests: 6,
      deduplicated: 2,
      billableRequests: 6,
    });
    // `estimate` recounts every text exactly: the figures are the o200k_base counts themselves.
    expect(estimate.inputTokens).toBe(expected.input);
    expect(estimate.expectedOutputTokens).toBe(expected.output);
    // gpt-4o-mini: $0.15 / $0.60 per million tokens, synchronous.
    const sync = (estimate.inputTokens * 0.15 + estimate.expectedOutputTokens * 0.6) / 1_000_000;
    expect(estimate.syncUsd).toBeCloseTo(sync, 12);
    expect(estimate.batchUsd).toBeCloseTo(sync / 2, 12);
    expect(estimate.syncUsd).toBeGreaterThan(0);
  });

  it('estimate submits nothing: every shard stays built, no batch id', async () => {
    const config = writePipeline(dir, { target_languages: ['de'] });
    expect((await runCliCapture(['estimate', config, '--json'])).code).toBe(0);
    const db = openStateDb(join(dir, 'run'));
    const shards = db.prepare('SELECT status, batch_id, file_id FROM shards').all();
    db.close();
    expect(shards).toEqual([{ status: 'built', batch_id: null, file_id: null }]);
  });

  it('a model without a price: cost fields null, and the human output says no price is known', async () => {
    const config = writePipeline(dir, { model: 'my-local-llama' });
    const json = await runCliCapture(['estimate', config, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const estimate = JSON.parse(json.stdout) as Estimate;
    expect(estimate.batchUsd).toBeNull();
    expect(estimate.syncUsd).toBeNull();
    expect(estimate.requests).toBe(3);
    expect(estimate.inputTokens).toBeGreaterThan(0);

    const human = await runCliCapture(['estimate', config]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain('no price is known for model "my-local-llama"');
    expect(human.stdout).not.toMatch(/\$\d/);
  });

  it('cost.price prices an unknown model', async () => {
    const config = writePipeline(dir, { model: 'my-local-llama', cost: { price: { input: 1, output: 2 }, output_ratio: OUTPUT_RATIO } });
    const result = await runCliCapture(['estimate', config, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const estimate = JSON.parse(result.stdout) as Estimate;
    expect(estimate.inputTokens).toBe(recomputeTokens(join(dir, 'run')).input);
    const sync = (estimate.inputTokens * 1 + estimate.expectedOutputTokens * 2) / 1_000_000;
    expect(estimate.syncUsd).toBeCloseTo(sync, 12);
    expect(estimate.batchUsd).toBeCloseTo(sync / 2, 12);
  });

  it('the human output lists requests, tokens and both prices', async () => {
    const config = writePipeline(dir, { target_languages: ['de', 'fr'], cost: { output_ratio: OUTPUT_RATIO } });
    const json = JSON.parse((await runCliCapture(['estimate', config, '--json'])).stdout) as Estimate;
    const result = await runCliCapture(['estimate', config]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/requests\s+6 to send/);
    expect(result.stdout).toMatch(new RegExp(`input tokens\\s+${json.inputTokens.toLocaleString('en-US')}\\b`));
    expect(result.stdout).toMatch(new RegExp(`expected output tokens\\s+${json.expectedOutputTokens.toLocaleString('en-US')}\\b`));
    expect(result.stdout).toMatch(/batch \$[\d.]+, sync \$[\d.]+/);
  });
});
