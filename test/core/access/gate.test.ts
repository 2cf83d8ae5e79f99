import { describe, expect, it } from 'vitest';
import type { AccessDecision } from '../../../src/core/access/access-rules.js';
import { decideGate } from '../../../src/core/access/gate.js';
import type { SessionId, UserId } from '../../../src/core/ids.js';
import { startSession, type FactorUse, type SessionKind } from '../../../src/core/session/session.js';

const NOW = Date.UTC(2026, 5, 1, 12);
const lifetimes = { idleTimeoutMs: 1_800_000, absoluteLifetimeMs: 43_200_000, touchIntervalMs: 60_000, enrollmentLifetimeMs: 900_000 };
const session = (amr: FactorUse[], kind: SessionKind = 'full') =>
  startSession({ id: 'ses_x' as SessionId, userId: 'usr_x' as UserId, kind, amr, now: NOW, ip: '127.0.0.1', userAgent: '' }, lifetimes);
const access = (policy: AccessDecision['policy'], extra: Partial<AccessDecision> = {}): AccessDecision => ({
  policy,
  rule: 0,
  identityRequired: false,
  ...extra,
});

const twoFactor = session([
  { method: 'pwd', at: NOW - 3_600_000 },
  { method: 'otp', at: NOW - 3_600_000 },
]);
const oneFactor = session([{ method: 'pwd', at: NOW }]);
const enrolling = session([{ method: 'pwd', at: NOW }], 'enrollment');

describe('the gate', () => {
  it.each([
    ['bypass lets anonymous in', access('bypass'), null, { kind: 'allow', authenticated: false }],
    ['bypass with identity required asks to sign in', access('bypass', { identityRequired: true }), null, { kind: 'sign_in' }],
    ['deny stops anonymous', access('deny'), null, { kind: 'deny' }],
    ['deny stops signed-in users', access('deny'), twoFactor, { kind: 'deny' }],
    ['one_factor without session: sign in', access('one_factor'), null, { kind: 'sign_in' }],
    ['one_factor with a password session', access('one_factor'), oneFactor, { kind: 'allow', authenticated: true }],
    ['an enrollment session passes nothing', access('one_factor'), enrolling, { kind: 'sign_in' }],
    ['two_factor with AAL1: step up', access('two_factor'), oneFactor, { kind: 'step_up', reason: 'second_factor' }],
    ['two_factor with AAL2', access('two_factor'), twoFactor, { kind: 'allow', authenticated: true }],
    [
      'max_auth_age older than allowed: step up',
      access('two_factor', { maxAuthAgeMs: 600_000 }),
      twoFactor,
      { kind: 'step_up', reason: 'stale', maxAuthAgeMs: 600_000 },
    ],
    ['max_auth_age met', access('two_factor', { maxAuthAgeMs: 7_200_000 }), twoFactor, { kind: 'allow', authenticated: true }],
  ] as const)('%s', (_name, decision, s, expected) => {
    expect(decideGate(decision, s, NOW)).toMatchObject(expected);
  });

  it('freshness of two_factor counts the second factor, not the password', () => {
    const stalePasswordFreshOtp = session([
      { method: 'pwd', at: NOW - 7_200_000 },
      { method: 'otp', at: NOW - 60_000 },
    ]);
    const freshPasswordStaleOtp = session([
      { method: 'pwd', at: NOW - 60_000 },
      { method: 'otp', at: NOW - 7_200_000 },
    ]);
    const rule = access('two_factor', { maxAuthAgeMs: 600_000 });
    expect(decideGate(rule, stalePasswordFreshOtp, NOW).kind).toBe('allow');
    expect(decideGate(rule, freshPasswordStaleOtp, NOW).kind).toBe('step_up');
  });
});
