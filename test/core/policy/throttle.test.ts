import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_FACTOR,
  accountDelayMs,
  attemptsAllowedWithin,
  passwordBudgets,
  type ThrottleRules,
} from '../../../src/core/policy/throttle.js';

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

describe('attemptsAllowedWithin: the documented bound on one budget', () => {
  it('is the free tries at once, then one more after each delay', () => {
    expect(attemptsAllowedWithin(0, RULES)).toBe(5);
    expect(attemptsAllowedWithin(999, RULES)).toBe(5);
    expect(attemptsAllowedWithin(1_000, RULES)).toBe(6); // 1 s after the 5th
    expect(attemptsAllowedWithin(3_000, RULES)).toBe(7); // then 2 s
    expect(attemptsAllowedWithin(60_000, RULES)).toBe(10); // 1+2+4+8+16 = 31 s ≤ 60 s < 63 s
  });

  it('an hour and a day of the defaults (docs/security/brute-force.md)', () => {
    // 5 at once, 10 more after waits of 1 s … 512 s (1023 s in all), then one every 900 s: 17 an hour, 113 a day.
    expect(attemptsAllowedWithin(3_600_000, RULES)).toBe(5 + 10 + Math.floor((3600 - 1023) / 900));
    expect(attemptsAllowedWithin(86_400_000, RULES)).toBe(5 + 10 + Math.floor((86_400 - 1023) / 900));
    const account = { ...RULES, failuresBeforeDelay: 50 };
    expect(attemptsAllowedWithin(3_600_000, account)).toBe(50 + 10 + Math.floor((3600 - 1023) / 900));
  });
});

describe('passwordBudgets: which budgets an attempt spends', () => {
  it('an unknown browser: the account-and-address pair, and the account from everywhere at ten times the threshold', () => {
    expect(passwordBudgets({ username: 'alice', ip: '10.0.0.1' }, RULES)).toEqual([
      { key: 'pair:alice:10.0.0.1', rules: RULES },
      { key: 'account:alice', rules: { ...RULES, failuresBeforeDelay: 5 * ACCOUNT_FACTOR } },
    ]);
  });

  it('a device known to the account: only its own budget, never the account-wide one strangers spend', () => {
    const budgets = passwordBudgets({ username: 'alice', ip: '10.0.0.1', knownDevice: 'd1' }, RULES);
    expect(budgets).toEqual([{ key: 'device:alice:d1', rules: RULES }]);
    expect(budgets.some((b) => b.key.startsWith('account:'))).toBe(false);
  });

  it('the same device on another account is another budget', () => {
    const [a] = passwordBudgets({ username: 'alice', ip: '10.0.0.1', knownDevice: 'd1' }, RULES);
    const [b] = passwordBudgets({ username: 'bob', ip: '10.0.0.1', knownDevice: 'd1' }, RULES);
    expect(a!.key).not.toBe(b!.key);
  });
});
