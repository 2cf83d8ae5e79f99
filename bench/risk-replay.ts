/**
 * tsx bench/risk-replay.ts — replay throughput (rows/s) of `twofold risk replay`'s engine on a
 * simulated data set (3,000 users × 180 days ≈ 240,000 rows, written to a temp file first).
 * Measured alongside, on the same file: a bare pass of the CSV reader (the ceiling) and the
 * freeman model. Each output goes to a real file. Prints one JSON object.
 */
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_THRESHOLDS } from '../src/core/risk/engine.js';
import { readRbaCsv } from '../src/risk/rba-csv.js';
import { replay } from '../src/risk/replay.js';
import { DEFAULT_SIMULATION, simulate } from '../src/risk/simulate.js';

const dir = mkdtempSync(join(tmpdir(), 'twofold-risk-bench-'));
const data = join(dir, 'sim.csv');
try {
  const dataOut = createWriteStream(data);
  const labelsOut = createWriteStream(join(dir, 'labels.csv'));
  const users = Number(process.env.USERS ?? DEFAULT_SIMULATION.users);
  const { rows } = await simulate({ ...DEFAULT_SIMULATION, users }, dataOut, labelsOut);
  dataOut.end();
  labelsOut.end();
  await Promise.all([once(dataOut, 'finish'), once(labelsOut, 'finish')]);

  const bare = async () => {
    let n = 0;
    for await (const _row of readRbaCsv(createReadStream(data))) n++;
    return n;
  };
  const run = async (model: 'freeman' | 'twofold') => {
    const out = createWriteStream(join(dir, `${model}.csv`));
    const summary = await replay(createReadStream(data), out, { engine: { model, thresholds: DEFAULT_THRESHOLDS[model] } });
    out.end();
    await once(out, 'finish');
    return summary.rows;
  };
  // Wall time and this process's CPU time: on a shared machine the second shows what the code
  // costs when other work competes for the cores (loadAverage is printed alongside).
  const results: Record<string, { rows: number; seconds: number; rowsPerSecond: number; cpuSeconds: number; rowsPerCpuSecond: number }> =
    {};
  for (const [name, fn] of [
    ['csv-read-only', bare],
    ['freeman', () => run('freeman')],
    ['twofold', () => run('twofold')],
  ] as const) {
    let best: (typeof results)[string] | undefined;
    for (let round = 0; round < 3; round++) {
      const t = performance.now();
      const cpu = process.cpuUsage();
      const n = await fn();
      const used = process.cpuUsage(cpu);
      const seconds = (performance.now() - t) / 1000;
      const cpuSeconds = (used.user + used.system) / 1e6;
      if (!best || seconds < best.seconds) {
        best = {
          rows: n,
          seconds: Number(seconds.toFixed(2)),
          rowsPerSecond: Math.round(n / seconds),
          cpuSeconds: Number(cpuSeconds.toFixed(2)),
          rowsPerCpuSecond: Math.round(n / cpuSeconds),
        };
      }
    }
    results[name] = best!;
  }
  process.stdout.write(
    `${JSON.stringify({ bench: 'risk-replay', node: process.version, rows, bestOf: 3, loadAverage: loadavg()[0], results })}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
