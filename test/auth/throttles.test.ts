import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/auth/errors.js';
import { createMemoryThrottles, type PasswordClaim, type ThrottleConfig, type Throttles } from '../../src/auth/throttles.js';
import type { PasswordAttempt } from '../../src/core/policy/throttle.js';

const CONFIG: ThrottleConfig = { failuresBeforeDelay: 5, maxDelayMs: 15 * 60_000, ipFailuresPerHour: 100 };

/** The refusal an attempt gets, or undefined when it is let through. */
async function refusal(attempt: Promise<unknown>): Promise<AppError | undefined> {
  try {
    await attempt;
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
}

const at = (username: string, ip: string, knownDevice?: string): PasswordAttempt => ({
  username,
  ip,
  ...(knownDevice ? { knownDevice } : {}),
});

/** n admitted attempts that fail (a claim that is never settled as a success counts as a failure). */
async function fail(t: Throttles, attempt: PasswordAttempt, n = 1): Promise<void> {
  for (let i = 0; i < n; i++) await t.claimPasswordAttempt(attempt);
}

describe('password throttling per account and IP', () => {
  it('lets 5 consecutive failures through, then makes the pair wait', async () => {
    const t = createMemoryThrottles(CONFIG);
    for (let i = 0; i < 5; i++) expect(await refusal(t.claimPasswordAttempt(at('alice', '10.0.0.1')))).toBeUndefined();
    const refused = await refusal(t.claimPasswordAttempt(at('alice', '10.0.0.1')));
    expect(refused?.code).toBe('rate_limited');
    expect(refused?.extra.retryAfterSeconds).toBe(1);
    // Other accounts from that IP, and the account from other IPs, are not affected.
    expect(await refusal(t.claimPasswordAttempt(at('bob', '10.0.0.1')))).toBeUndefined();
    expect(await refusal(t.claimPasswordAttempt(at('alice', '10.0.0.2')))).toBeUndefined();
  });

  it('doubles the wait with each further failure', async () => {
    const t = createMemoryThrottles({ ...CONFIG, failuresBeforeDelay: 1 });
    await fail(t, at('alice', '10.0.0.1'));
    expect((await refusal(t.claimPasswordAttempt(at('alice', '10.0.0.1'))))?.extra.retryAfterSeconds).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1050));
    await fail(t, at('alice', '10.0.0.1'));
    expect((await refusal(t.claimPasswordAttempt(at('alice', '10.0.0.1'))))?.extra.retryAfterSeconds).toBe(2);
  });

  it('a success forgets the failures', async () => {
    const t = createMemoryThrottles(CONFIG);
    await fail(t, at('alice', '10.0.0.1'), 3);
    const right = await t.claimPasswordAttempt(at('alice', '10.0.0.1'));
    await right.succeeded();
    await fail(t, at('alice', '10.0.0.1'), 4);
    expect(await refusal(t.claimPasswordAttempt(at('alice', '10.0.0.1')))).toBeUndefined();
  });

  it('slows an account sprayed from many IPs after ten times the threshold', async () => {
    const t = createMemoryThrottles(CONFIG);
    for (let i = 0; i < 49; i++) await fail(t, at('alice', `10.1.0.${i}`));
    expect(await refusal(t.claimPasswordAttempt(at('alice', '10.1.0.49')))).toBeUndefined();
    expect((await refusal(t.claimPasswordAttempt(at('alice', '10.9.9.9'))))?.code).toBe('rate_limited');
    expect(await refusal(t.claimPasswordAttempt(at('bob', '10.9.9.9')))).toBeUndefined();
  });

  it('counts an attempt before its password is checked: a burst of concurrent tries gets only the free ones', async () => {
    const t = createMemoryThrottles(CONFIG);
    const results = await Promise.all(Array.from({ length: 40 }, () => refusal(t.claimPasswordAttempt(at('alice', '10.0.0.1')))));
    expect(results.filter((r) => r === undefined)).toHaveLength(5);
    expect(results.filter((r) => r?.code === 'rate_limited')).toHaveLength(35);
  });

  it('a refused attempt costs nothing: the pair waits no longer for being hammered while it waits', async () => {
    const t = createMemoryThrottles(CONFIG);
    await fail(t, at('alice', '10.0.0.1'), 5);
    for (let i = 0; i < 20; i++) expect((await refusal(t.claimPasswordAttempt(at('alice', '10.0.0.1'))))?.extra.retryAfterSeconds).toBe(1);
  });
});

describe('a device known to the account has its own budget (no lockout DoS)', () => {
  it('strangers spending the account-wide budget do not make the known device wait', async () => {
    const t = createMemoryThrottles(CONFIG);
    for (let i = 0; i < 60; i++) await refusal(t.claimPasswordAttempt(at('alice', `10.2.0.${i}`)));
    expect((await refusal(t.claimPasswordAttempt(at('alice', '10.9.9.9'))))?.code).toBe('rate_limited');
    const own: PasswordClaim = await t.claimPasswordAttempt(at('alice', '10.9.9.9', 'device-hash-of-alices-laptop'));
    await own.succeeded();
  });

  it('nor does the per-IP cap of an address shared with the attacker', async () => {
    const t = createMemoryThrottles({ ...CONFIG, ipFailuresPerHour: 3 });
    for (let i = 0; i < 3; i++) await fail(t, at(`user${i}`, '10.0.0.1'));
    expect((await refusal(t.claimPasswordAttempt(at('alice', '10.0.0.1'))))?.code).toBe('rate_limited');
    expect(await refusal(t.claimPasswordAttempt(at('alice', '10.0.0.1', 'laptop')))).toBeUndefined();
  });

  it('is itself braked like a pair: a stolen device cookie gets 5 free tries, then delays', async () => {
    const t = createMemoryThrottles(CONFIG);
    await fail(t, at('alice', '10.0.0.1', 'laptop'), 5);
    expect((await refusal(t.claimPasswordAttempt(at('alice', '10.0.0.2', 'laptop'))))?.code).toBe('rate_limited');
    // The account's other budgets are untouched by it.
    expect(await refusal(t.claimPasswordAttempt(at('alice', '10.0.0.2')))).toBeUndefined();
  });
});

describe('per-IP limit on failed sign-in steps', () => {
  it('counts password and code failures together, per IP', async () => {
    const t = createMemoryThrottles({ ...CONFIG, ipFailuresPerHour: 3 });
    await fail(t, at('alice', '10.0.0.1'));
    await t.codeFailed('10.0.0.1');
    expect(await refusal(t.assertCodeAllowed('10.0.0.1'))).toBeUndefined();
    await t.codeFailed('10.0.0.1');
    const refused = await refusal(t.assertCodeAllowed('10.0.0.1'));
    expect(refused?.code).toBe('rate_limited');
    expect(refused?.extra.retryAfterSeconds).toBeGreaterThan(3500);
    expect((await refusal(t.claimPasswordAttempt(at('carol', '10.0.0.1'))))?.code).toBe('rate_limited');
    expect(await refusal(t.assertCodeAllowed('10.0.0.2'))).toBeUndefined();
  });

  it('a right password gives its attempt back', async () => {
    const t = createMemoryThrottles({ ...CONFIG, ipFailuresPerHour: 2 });
    for (let i = 0; i < 5; i++) await (await t.claimPasswordAttempt(at(`user${i}`, '10.0.0.1'))).succeeded();
    expect(await refusal(t.assertCodeAllowed('10.0.0.1'))).toBeUndefined();
  });
});
