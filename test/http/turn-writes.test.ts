import { describe, expect, it } from 'vitest';
import { turnWrites } from '../../src/http/turn-writes.js';

const nextCheckPhase = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('turnWrites', () => {
  it('holds writes until the check phase, then makes them in the order they came', async () => {
    const later = turnWrites();
    const done: number[] = [];
    later(() => done.push(1));
    later(() => done.push(2));
    await Promise.resolve();
    expect(done).toEqual([]);
    await nextCheckPhase();
    expect(done).toEqual([1, 2]);
  });

  it('makes a write queued during a flush in the next turn', async () => {
    const later = turnWrites();
    const done: string[] = [];
    later(() => {
      done.push('first');
      later(() => done.push('queued by first'));
    });
    await nextCheckPhase();
    expect(done).toEqual(['first']);
    await nextCheckPhase();
    expect(done).toEqual(['first', 'queued by first']);
  });

  it('makes the other writes when one throws, then rethrows its error', async () => {
    const later = turnWrites();
    const done: number[] = [];
    const errors: unknown[] = [];
    const onUncaught = (error: unknown) => errors.push(error);
    const listeners = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    process.on('uncaughtException', onUncaught);
    try {
      later(() => done.push(1));
      later(() => {
        throw new Error('head refused');
      });
      later(() => done.push(3));
      await nextCheckPhase();
      await nextCheckPhase();
    } finally {
      process.off('uncaughtException', onUncaught);
      for (const listener of listeners) process.on('uncaughtException', listener);
    }
    expect(done).toEqual([1, 3]);
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('head refused');
  });
});
