import type { SessionId, UserId } from '../../src/core/ids.js';
import type { Session } from '../../src/core/session/session.js';
import type { User } from '../../src/store/store.js';

/** A stored user with plain values (username and name from the id); a test overrides what it looks at. */
export function storedUser(id: string, at: number, overrides: Partial<User> = {}): User {
  return {
    id: id as UserId,
    username: id,
    displayName: id,
    email: null,
    passwordHash: '$argon2id$stand-in',
    isAdmin: false,
    disabled: false,
    factorFailures: 0,
    createdAt: at,
    updatedAt: at,
    ...overrides,
  };
}

/** A live two-factor session signed in at `at` (30 min idle, 12 h absolute); a test overrides what it looks at. */
export function liveSession(id: string, userId: string, at: number, overrides: Partial<Session> = {}): Session {
  return {
    id: id as SessionId,
    userId: userId as UserId,
    kind: 'full',
    aal: 2,
    amr: [
      { method: 'pwd', at },
      { method: 'otp', at },
    ],
    authTime: at,
    createdAt: at,
    lastSeenAt: at,
    idleExpiresAt: at + 1_800_000,
    expiresAt: at + 43_200_000,
    ip: '127.0.0.1',
    userAgent: 'test',
    revokedAt: null,
    revokedReason: null,
    ...overrides,
  };
}
