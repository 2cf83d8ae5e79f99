import { setFlagsFromString } from 'node:v8';

/**
 * Bounds how far V8 lets the heap grow between full GCs, for a long-running server. V8 sets the
 * next full GC's threshold at up to 4 times what was live after the last, from its own guess of
 * GC and program speed: a gate that started small and then filled its session cache let garbage
 * pile up to more than its live heap (one A/B with a million sessions stored, peak RSS: 250
 * against 240 MB on the cache-miss path, 225 against 215 MB with 100k sessions in use;
 * bench/README.md). `--heap-growing-percent` replaces that guess with a fixed factor. V8 reads the
 * flag each time it sets the threshold, so setting it at start-up applies from the next full GC
 * on; Node leaves flags writable after start (v8.setFlagsFromString). 0 leaves V8's rule alone.
 */
export function applyHeapGrowth(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}
