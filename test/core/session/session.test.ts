import { describe, expect, it } from 'vitest';
import type { SessionId, UserId } from '../../../src/core/ids.js';
import {
  aalOf,
  sessionStatus,
  startSession,
  touch,
  type FactorUse,
  type Session,
  type SessionLifetimes,
} from '../../../src/core/session/session.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);

/** The defaults of config.ts: 30 min idle, 12 h absolute, a write at most once a minute, 15 min to enroll. */
const LIFETIMES: SessionLifetimes = {
  idleTimeoutMs: 30 * MINUTE,
  absoluteLifetimeMs: 12 * HOUR,
  touchIntervalMs: MINUTE,
  enrollmentLifetimeMs: 15 * MINUTE,
};

const pwd = (at = T0): FactorUse => ({ method: 'pwd', at });
const otp = (at = T0): FactorUse => ({ method: 'otp', at });
const rc = (at = T0): FactorUse => ({ method: 'rc', at });

const start = (overrides: Partial<Parameters<typeof startSession>[0]> = {}, lifetimes = LIFETIMES): Session =>
  startSession(
    {
      id: 'ses_test' as SessionId,
      userId: 'usr_test' as UserId,
      kind: 'full',
      amr: [pwd(), otp()],
      now: T0,
      ip: '127.0.0.1',
      userAgent: 'test',
      ...overrides,
    },
    lifetimes,
  );

describe('aalOf: two distinct kinds of factor make AAL2', () => {
  it.each<[string, FactorUse[], 1 | 2]>([
    ['nothing', [], 1],
    ['a password', [pwd()], 1],
    ['a TOTP code', [otp()], 1],
    ['a recovery code', [rc()], 1],
    ['password + TOTP', [pwd(), otp()], 2],
    ['password + recovery code', [pwd(), rc()], 2],
    ['TOTP + recovery code (both something you have)', [otp(), rc()], 1],
    ['the password twice', [pwd(), pwd()], 1],
    ['all three', [pwd(), otp(), rc()], 2],
  ])('%s → AAL%i', (_label, amr, aal) => {
    expect(aalOf(amr)).toBe(aal);
  });
});

describe('startSession decides every lifetime', () => {
  it('a full session: 12 h absolute, 30 min idle, last seen now, AAL from its factors', () => {
    const session = start({ amr: [pwd(T0 - 20_000), otp(T0)] });
    expect(session).toEqual({
      id: 'ses_test',
      userId: 'usr_test',
      kind: 'full',
      aal: 2,
      amr: [pwd(T0 - 20_000), otp(T0)],
      authTime: T0,
      createdAt: T0,
      lastSeenAt: T0,
      idleExpiresAt: T0 + 30 * MINUTE,
      expiresAt: T0 + 12 * HOUR,
      ip: '127.0.0.1',
      userAgent: 'test',
      revokedAt: null,
      revokedReason: null,
    });
  });

  it('an enrollment session lives 15 min, and its idle expiry never outlasts that', () => {
    const session = start({ kind: 'enrollment', amr: [pwd()] });
    expect(session.aal).toBe(1);
    expect(session.expiresAt).toBe(T0 + 15 * MINUTE);
    expect(session.idleExpiresAt).toBe(T0 + 15 * MINUTE);
  });

  it('the idle expiry is capped by the absolute one', () => {
    const session = start({}, { ...LIFETIMES, absoluteLifetimeMs: 10 * MINUTE });
    expect(session.idleExpiresAt).toBe(session.expiresAt);
  });

  it('auth_time is the sign-in, never earlier than the last factor', () => {
    expect(start({ amr: [pwd(T0 - 4 * MINUTE), otp(T0 - MINUTE)] }).authTime).toBe(T0);
    expect(start({ amr: [] }).authTime).toBe(T0);
  });
});

describe('sessionStatus', () => {
  const session = start();

  it('is active from creation until just before either expiry', () => {
    expect(sessionStatus(session, T0)).toEqual({ kind: 'active' });
    expect(sessionStatus(session, T0 + 30 * MINUTE - 1)).toEqual({ kind: 'active' });
  });

  it('expires (idle) at the idle expiry exactly', () => {
    expect(sessionStatus(session, T0 + 30 * MINUTE)).toEqual({ kind: 'expired', reason: 'idle' });
  });

  it('expires (absolute) at the absolute expiry, whatever the idle expiry says', () => {
    const busy = { ...session, idleExpiresAt: session.expiresAt };
    expect(sessionStatus(busy, T0 + 12 * HOUR - 1)).toEqual({ kind: 'active' });
    expect(sessionStatus(busy, T0 + 12 * HOUR)).toEqual({ kind: 'expired', reason: 'absolute' });
    expect(sessionStatus(session, T0 + 13 * HOUR)).toEqual({ kind: 'expired', reason: 'absolute' });
  });

  it('a revoked session is revoked, with its reason, before anything else', () => {
    const revoked = { ...session, revokedAt: T0 + MINUTE, revokedReason: 'logout' };
    expect(sessionStatus(revoked, T0 + 2 * MINUTE)).toEqual({ kind: 'revoked', reason: 'logout' });
    expect(sessionStatus(revoked, T0 + 13 * HOUR)).toEqual({ kind: 'revoked', reason: 'logout' });
  });
});

describe('touch: activity slides the idle expiry, written at most once per interval', () => {
  const session = start();

  it('writes nothing within the touch interval of the last write', () => {
    expect(touch(session, T0, LIFETIMES)).toBeNull();
    expect(touch(session, T0 + 59_999, LIFETIMES)).toBeNull();
  });

  it('slides the idle expiry once the interval has passed', () => {
    expect(touch(session, T0 + MINUTE, LIFETIMES)).toEqual({ lastSeenAt: T0 + MINUTE, idleExpiresAt: T0 + 31 * MINUTE });
    expect(touch(session, T0 + 20 * MINUTE, LIFETIMES)).toEqual({ lastSeenAt: T0 + 20 * MINUTE, idleExpiresAt: T0 + 50 * MINUTE });
  });

  it('never slides past the absolute expiry', () => {
    const late = { ...session, lastSeenAt: T0 + 11 * HOUR };
    expect(touch(late, T0 + 11 * HOUR + 40 * MINUTE, LIFETIMES)).toEqual({
      lastSeenAt: T0 + 11 * HOUR + 40 * MINUTE,
      idleExpiresAt: T0 + 12 * HOUR,
    });
  });

  it('the interval counts from the last write, not from sign-in', () => {
    const touched = { ...session, lastSeenAt: T0 + 10 * MINUTE };
    expect(touch(touched, T0 + 10 * MINUTE + 30_000, LIFETIMES)).toBeNull();
    expect(touch(touched, T0 + 11 * MINUTE, LIFETIMES)).not.toBeNull();
  });

  it('with a zero interval every request writes', () => {
    expect(touch(session, T0 + 1, { ...LIFETIMES, touchIntervalMs: 0 })).toEqual({
      lastSeenAt: T0 + 1,
      idleExpiresAt: T0 + 1 + 30 * MINUTE,
    });
  });
});
