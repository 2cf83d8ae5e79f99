import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { oncePerTurn } from '../../src/store/sqlite/turn-memo.js';

describe('oncePerTurn', () => {
  it('reads once per event-loop turn, and again in the next turn', async () => {
    let reads = 0;
    const read = oncePerTurn(() => ++reads);
    expect([read(), read(), read()]).toEqual([1, 1, 1]);
    await nextTurn();
    expect([read(), read()]).toEqual([2, 2]);
    await nextTurn();
    await nextTurn();
    expect(read()).toBe(3);
    expect(reads).toBe(3);
  });

  it('never reuses a reading older than maxAgeMs, even within one turn', () => {
    let reads = 0;
    let now = 0;
    const read = oncePerTurn(() => ++reads, { maxAgeMs: 1, now: () => now });
    expect(read()).toBe(1);
    now = 0.9;
    expect(read()).toBe(1);
    now = 1.0;
    expect(read()).toBe(2);
    now = 1.5;
    expect(read()).toBe(2);
  });

  it('a microtask continuation is the same turn; a timer is not', async () => {
    let reads = 0;
    // A clock that stands still: only the turn decides (the 1 ms bound is the test above), so a busy
    // machine that takes more than 1 ms to reach the continuation cannot fail it.
    const read = oncePerTurn(() => ++reads, { now: () => 0 });
    expect(read()).toBe(1);
    await Promise.resolve();
    expect(read()).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 2));
    expect(read()).toBe(2);
  });
});
