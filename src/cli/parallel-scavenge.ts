import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';

/** `parallel_scavenge` in twofold.yaml: whether V8 collects the young generation with helper threads. */
export type ParallelScavenge = 'auto' | 'on' | 'off';

/** The core count at and under which `auto` collects the young generation on the main thread alone. */
const SERIAL_SCAVENGE_MAX_CORES = 2;

/**
 * Whether scavenges should use helper threads. V8 splits each scavenge of the young generation (run
 * about every 60 ms by a busy gate: each check leaves a few KB of garbage) between the main thread
 * and helpers, one per core. On a machine of two cores the other core is busy too (the proxy, the
 * load, the touch thread), so the main thread stops the world and then waits for helpers that
 * cannot run: under 50 connections on such a machine the mean scavenge pause was 0.53–0.71 ms
 * without helpers against 0.73–0.99 ms with them (bench/README.md). With more cores V8's default
 * stands, since that was not measured here.
 */
export function scavengesInParallel(setting: ParallelScavenge, cores: number): boolean {
  return setting === 'auto' ? cores > SERIAL_SCAVENGE_MAX_CORES : setting === 'on';
}

/**
 * Applies the setting to this process (`twofold serve`). V8 reads the flag at each scavenge, so it
 * holds from the next one on. Returns whether scavenges use helper threads.
 */
export function applyParallelScavenge(setting: ParallelScavenge, cores = availableParallelism()): boolean {
  const parallel = scavengesInParallel(setting, cores);
  setFlagsFromString(parallel ? '--parallel-scavenge' : '--no-parallel-scavenge');
  return parallel;
}
