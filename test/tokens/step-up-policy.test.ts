import { describe, expect, it } from 'vitest';
import { judgeStepUp, lastProofAt } from '../../src/core/policy/step-up-policy.js';
import type { FactorUse } from '../../src/core/session/session.js';

/** The pure rule behind every step-up answer (src/core/policy/step-up-policy.ts). */

const MINUTE = 60_000;
const NOW = 1_700_000_000_000;
const twoFactor = (pwdAgo: number, otpAgo: number) => ({
  aal: 2 as const,
  amr: [
    { method: 'pwd', at: NOW - pwdAgo },
    { method: 'otp', at: NOW - otpAgo },
  ] as FactorUse[],
});

describe('judgeStepUp', () => {
  it('asks nothing of a session when the requirement is empty', () => {
    expect(judgeStepUp(twoFactor(60 * MINUTE, 60 * MINUTE), {}, NOW)).toEqual({ kind: 'satisfied' });
  });

  it('judges an AAL2 session by its second factor: a recent password alone is not enough', () => {
    expect(judgeStepUp(twoFactor(1 * MINUTE, 11 * MINUTE), { maxAuthAgeMs: 10 * MINUTE }, NOW)).toEqual({
      kind: 'step_up_required',
      reason: 'stale',
      maxAuthAgeMs: 10 * MINUTE,
    });
    expect(judgeStepUp(twoFactor(30 * MINUTE, 9 * MINUTE), { maxAuthAgeMs: 10 * MINUTE }, NOW)).toEqual({ kind: 'satisfied' });
  });

  it('is satisfied exactly at the limit and refuses one millisecond after', () => {
    expect(judgeStepUp(twoFactor(0, 10 * MINUTE), { maxAuthAgeMs: 10 * MINUTE }, NOW).kind).toBe('satisfied');
    expect(judgeStepUp(twoFactor(0, 10 * MINUTE + 1), { maxAuthAgeMs: 10 * MINUTE }, NOW).kind).toBe('step_up_required');
  });

  it('judges an AAL1 session by its password, and counts a factor the request itself just proved', () => {
    const oneFactor = { aal: 1 as const, amr: [{ method: 'pwd', at: NOW - 20 * MINUTE }] as FactorUse[] };
    expect(judgeStepUp(oneFactor, { maxAuthAgeMs: 10 * MINUTE }, NOW).kind).toBe('step_up_required');
    expect(judgeStepUp(oneFactor, { maxAuthAgeMs: 10 * MINUTE }, NOW, [{ method: 'pwd', at: NOW }]).kind).toBe('satisfied');
    expect(lastProofAt(oneFactor)).toBe(NOW - 20 * MINUTE);
  });

  it('asks for the level before the age: a fresh one-factor session still lacks AAL2', () => {
    const fresh = { aal: 1 as const, amr: [{ method: 'pwd', at: NOW }] as FactorUse[] };
    expect(judgeStepUp(fresh, { minAal: 2, maxAuthAgeMs: MINUTE }, NOW)).toEqual({
      kind: 'step_up_required',
      reason: 'aal',
      maxAuthAgeMs: MINUTE,
    });
  });

  it('asks for a phishing-resistant factor when the session used none', () => {
    expect(judgeStepUp(twoFactor(0, 0), { phishingResistant: true }, NOW)).toEqual({
      kind: 'step_up_required',
      reason: 'phishing_resistant',
    });
    const withKey = { aal: 2 as const, amr: [{ method: 'hwk', at: NOW - MINUTE }] as FactorUse[] };
    expect(judgeStepUp(withKey, { phishingResistant: true, maxAuthAgeMs: 5 * MINUTE }, NOW)).toEqual({ kind: 'satisfied' });
  });
});
