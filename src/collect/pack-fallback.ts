/**
 * A packed request whose answer cannot be used (invalid JSON, wrong keys,
 * or out of attempts) is replaced by one request per cell. Their lines wait
 * in the state (`pending_lines`) until the next retry shard or sync round.
 */
import { batchLine, RequestBodyWriter } from '../build/request.js';
import type { PipelineConfig } from '../config/types.js';
import { outputRatio } from '../cost/tokens.js';
import { requestSettings } from '../run/prepare.js';
import { fieldPatternOf, type SplitSettings, splitSettings } from '../split/cells.js';
import { customIdOf } from '../split/custom-id.js';
import { approximateTokens } from '../split/tokens.js';
import type { RunState } from '../state/run-state.js';

export class PackFallback {
  private readonly bodies: RequestBodyWriter;
  private readonly split: SplitSettings;

  constructor(private readonly config: PipelineConfig) {
    this.bodies = new RequestBodyWriter(requestSettings(config), approximateTokens);
    this.split = splitSettings(config);
  }

  /** Replaces the packed request `requestId` (whose text is the JSON object of its cells' texts). */
  apply(
    state: RunState,
    requestId: number,
    packedText: string,
    detail: string,
    usage: { promptTokens: number; completionTokens: number },
  ): number {
    const texts = JSON.parse(packedText) as Record<string, string>;
    let created = 0;
    for (const unit of state.unitsOfRequest(requestId)) {
      const text = unit.pack_key === null ? undefined : texts[unit.pack_key];
      if (text === undefined) continue;
      const built = this.bodies.build({ text, lang: unit.lang, field: fieldPatternOf(this.split, unit.pack_key!) });
      const existing = this.config.split.dedupe ? state.findRequestByHash(built.key) : undefined;
      let target = existing;
      if (target === undefined) {
        const customId = customIdOf({ row: unit.row, cell: unit.cell, lang: unit.lang, chunk: 0 });
        const textTokens = approximateTokens(text);
        const tokens = {
          input: built.headTokens + textTokens,
          output: Math.ceil(textTokens * outputRatio(unit.lang, this.config.cost.output_ratio)),
        };
        target = state.insertPendingRequest({ customId, hash: built.key, row: unit.row, text, tokens }, batchLine(customId, built.json));
        created++;
      }
      state.repointUnit(unit.row, unit.cell, unit.lang, unit.chunk, target);
    }
    state.markReplaced(requestId, detail, usage);
    state.event('pack.fallback', { request_id: requestId, detail, created });
    return created;
  }
}
