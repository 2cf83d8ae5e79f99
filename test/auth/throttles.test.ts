import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/auth/errors.js';
import { createMemoryThrottles, type ThrottleConfig } from '../../src/auth/throttles.js';

const CONFIG: ThrottleConfig = { failuresBeforeDelay: 5, maxDelayMs: 15 * 60_000, ipFailuresPerHour: 100 };

/** The refusal an assert gives, or undefined when it lets the attempt through. */
async function refusal(attempt: Promise<void>): Promise<AppError | undefined> {
  try {
    await attempt;
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
}

describe('password throttling per account and IP', () => {
  it('lets 5 consecutive failures through, then makes the pair wait', async () => {
    const t = createMemoryThrottles(CONFIG);
    for (let i = 0; i < 5; i++) {
      expect(await refusal(t.assertPasswordAllowed('alice', '10.0.0.1'))).toBeUndefined();
      await t.passwordFailed('alice', '10.0.0.1');
    }
    const refused = await refusal(t.assertPasswordAllowed('alice', '10.0.0.1'));
    expect(refused?.code).toBe('rate_limited');
    expect(refused?.extra.retryAfterSeconds).toBe(1);
    // Other accounts from that IP, and the account from other IPs, are not affected.
    expect(await refusal(t.assertPasswordAllowed('bob', '10.0.0.1'))).toBeUndefined();
    expect(await refusal(t.assertPasswordAllowed('alice', '10.0.0.2'))).toBeUndefined();
  });

  it('doubles the wait with each further failure', async () => {
    const t = createMemoryThrottles(CONFIG);
    for (let i = 0; i < 7; i++) await t.passwordFailed('alice', '10.0.0.1');
    expect((await refusal(t.assertPasswordAllowed('alice', '10.0.0.1')))?.extra.retryAfterSeconds).toBe(4);
  });

  it('a success forgets the failures', async () => {
    const t = createMemoryThrottles(CONFIG);
    for (let i = 0; i < 4; i++) await t.passwordFailed('alice', '10.0.0.1');
    await t.passwordSucceeded('alice', '10.0.0.1');
    for (let i = 0; i < 4; i++) await t.passwordFailed('alice', '10.0.0.1');
    expect(await refusal(t.assertPasswordAllowed('alice', '10.0.0.1'))).toBeUndefined();
  });

  it('slows an account sprayed from many IPs after ten times the threshold', async () => {
    const t = createMemoryThrottles(CONFIG);
    for (let i = 0; i < 49; i++) await t.passwordFailed('alice', `10.1.0.${i}`);
    expect(await refusal(t.assertPasswordAllowed('alice', '10.9.9.9'))).toBeUndefined();
    await t.passwordFailed('alice', '10.1.0.49');
    expect((await refusal(t.assertPasswordAllowed('alice', '10.9.9.9')))?.code).toBe('rate_limited');
    expect(await refusal(t.assertPasswordAllowed('bob', '10.9.9.9'))).toBeUndefined();
  });
});

describe('per-IP limit on failed sign-in steps', () => {
  it('counts password and code failures together, per IP', async () => {
    const t = createMemoryThrottles({ ...CONFIG, ipFailuresPerHour: 3 });
    await t.passwordFailed('alice', '10.0.0.1');
    await t.codeFailed('10.0.0.1');
    expect(await refusal(t.assertCodeAllowed('10.0.0.1'))).toBeUndefined();
    await t.codeFailed('10.0.0.1');
    const refused = await refusal(t.assertCodeAllowed('10.0.0.1'));
    expect(refused?.code).toBe('rate_limited');
    expect(refused?.extra.retryAfterSeconds).toBeGreaterThan(3500);
    expect((await refusal(t.assertPasswordAllowed('carol', '10.0.0.1')))?.code).toBe('rate_limited');
    expect(await refusal(t.assertCodeAllowed('10.0.0.2'))).toBeUndefined();
  });
});
