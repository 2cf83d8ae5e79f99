import { describe, expect, it } from 'vitest';
import { accountDelayMs, type ThrottleRules } from '../../../src/core/policy/throttle.js';

const RULES: ThrottleRules = { failuresBeforeDelay: 5, maxDelayMs: 15 * 60_000 };

describe('accountDelayMs: growing delays instead of a lockout', () => {
  it.each([
    [0, 0],
    [1, 0],
    [4, 0],
    [5, 1_000],
    [6, 2_000],
    [7, 4_000],
    [8, 8_000],
    [14, 512_000],
  ])('%i consecutive failures → wait %i ms', (failures, delay) => {
    expect(accountDelayMs(failures, RULES)).toBe(delay);
  });

  it('is capped at max_delay', () => {
    expect(accountDelayMs(15, RULES)).toBe(15 * 60_000); // 1024 s > 900 s
    expect(accountDelayMs(100, RULES)).toBe(15 * 60_000);
  });

  it('stays finite for absurd counts', () => {
    expect(accountDelayMs(1_000_000, { failuresBeforeDelay: 1, maxDelayMs: Number.MAX_SAFE_INTEGER })).toBe(1000 * 2 ** 30);
  });

  it('grows monotonically', () => {
    let previous = 0;
    for (let failures = 0; failures < 40; failures++) {
      const delay = accountDelayMs(failures, RULES);
      expect(delay).toBeGreaterThanOrEqual(previous);
      previous = delay;
    }
  });

  it('follows the threshold', () => {
    expect(accountDelayMs(1, { ...RULES, failuresBeforeDelay: 1 })).toBe(1_000);
    expect(accountDelayMs(49, { ...RULES, failuresBeforeDelay: 50 })).toBe(0);
    expect(accountDelayMs(50, { ...RULES, failuresBeforeDelay: 50 })).toBe(1_000);
  });
});
