import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { scavengesInParallel } from '../../src/cli/parallel-scavenge.js';

const PARALLEL_SCAVENGE = join(resolve(import.meta.dirname, '../..'), 'dist/src/cli/parallel-scavenge.js');

/**
 * Milliseconds of scavenge work done by V8's helper threads, per scavenge, in a process of its own
 * that applies the setting and then allocates: mostly garbage, with a ring of survivors so that
 * every scavenge has copying to share out. Read from V8's own GC trace (--trace-gc-nvp).
 */
function helperWorkPerScavenge(setting: 'on' | 'off'): number[] {
  const script = `
    const { applyParallelScavenge } = await import(${JSON.stringify(PARALLEL_SCAVENGE)});
    applyParallelScavenge(${JSON.stringify(setting)});
    const ring = new Array(50_000);
    for (let i = 0; i < 4_000_000; i++) {
      const o = { a: i, b: 'k' + i, c: [i, i] };
      if (i % 2 === 0) ring[i % ring.length] = o;
    }
  `;
  const trace = execFileSync(process.execPath, ['--trace-gc-nvp', '--input-type=module', '-e', script], { encoding: 'latin1' });
  return [...trace.matchAll(/gc=s\b.*?background\.scavenge\.parallel=([\d.]+)/g)].map((match) => Number(match[1]));
}

describe('parallel_scavenge (src/cli/parallel-scavenge.ts, applied by twofold serve)', () => {
  it.each([
    ['auto', 1, false],
    ['auto', 2, false],
    ['auto', 3, true],
    ['auto', 64, true],
    ['on', 1, true],
    ['on', 2, true],
    ['off', 2, false],
    ['off', 64, false],
  ] as const)('%s on %i cores: helper threads %s', (setting, cores, parallel) => {
    expect(scavengesInParallel(setting, cores)).toBe(parallel);
  });

  it('off: every scavenge is done by the main thread alone', () => {
    const serial = helperWorkPerScavenge('off');
    expect(serial.length).toBeGreaterThan(10);
    expect(serial.every((ms) => ms === 0)).toBe(true);
  });

  it('on: helper threads share the scavenges (the control: the trace does show their work)', () => {
    const parallel = helperWorkPerScavenge('on');
    expect(parallel.length).toBeGreaterThan(10);
    // V8 starts one helper per core besides the main thread: none on a single core.
    if (availableParallelism() > 1) expect(parallel.some((ms) => ms > 0)).toBe(true);
  });
});
