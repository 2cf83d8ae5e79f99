import type { Readable, Writable } from 'node:stream';
import { RiskEngine, type RiskEngineOptions } from '../core/risk/engine.js';
import { decide } from '../core/risk/policy.js';
import { LineWriter, RbaCsvError, readRbaCsv } from './rba-csv.js';

const DAY_MS = 86_400_000;

export interface ReplayOptions {
  engine: RiskEngineOptions;
  /** Report malformed lines here and go on; without it the first one stops the replay. */
  onMalformed?: (error: RbaCsvError) => void;
  /** Called about every 10,000 rows. */
  onProgress?: (rows: number) => void;
}

export interface ReplaySummary {
  rows: number;
  malformed: number;
  seconds: number;
}

/**
 * Replays sign-ins in timestamp order: each row is scored against the history built from the
 * earlier successful rows, then learnt if it succeeded (or counted as a failure). Writes
 * `index,score,decision`. Memory grows with users' histories (capped), not with rows.
 */
export async function replay(input: Readable, output: Writable, options: ReplayOptions): Promise<ReplaySummary> {
  const started = performance.now();
  const engine = new RiskEngine(options.engine);
  const writer = new LineWriter(output);
  await writer.write('index,score,decision');
  let malformed = 0;
  let rows = 0;
  const onMalformed = options.onMalformed
    ? (error: RbaCsvError) => {
        malformed++;
        options.onMalformed!(error);
      }
    : undefined;
  let last = -Infinity;
  let nextPrune = -Infinity;
  for await (const row of readRbaCsv(input, { onMalformed })) {
    const ctx = row.context;
    // A stream cannot be sorted in constant memory: a row going back in time is refused.
    if (ctx.at < last) {
      const error = new RbaCsvError(row.line, 'timestamp earlier than the previous row; sort the file by Login Timestamp first');
      if (!onMalformed) throw error;
      onMalformed(error);
      continue;
    }
    last = ctx.at;
    if (ctx.at >= nextPrune) {
      engine.prune(ctx.at); // retention for users who went quiet, once per day of data
      nextPrune = ctx.at + DAY_MS;
    }
    const { score, band } = engine.scoreAndBand(ctx);
    const decision = decide(band);
    if (writer.push(`${row.index},${score.toFixed(4)},${decision}`)) await writer.flush();
    if (row.success) engine.recordSuccess(ctx);
    else engine.recordFailure(ctx);
    if (++rows % 10_000 === 0) options.onProgress?.(rows);
  }
  await writer.flush();
  return { rows, malformed, seconds: (performance.now() - started) / 1000 };
}
