import type { SessionId, UserId } from '../ids.js';

/** How long a token sign-in lives: an absolute cap and an inactivity expiry, both in ms. */
export interface RefreshLifetimes {
  refreshAbsoluteLifetimeMs: number;
  refreshIdleTimeoutMs: number;
}

export interface RefreshFamilyState {
  id: string;
  sessionId: SessionId;
  userId: UserId;
  createdAt: number;
  expiresAt: number;
  idleExpiresAt: number;
  revokedAt: number | null;
  revokedReason: string | null;
}

/** A family starts with its sign-in; the lifetimes of token sign-ins are decided here. */
export function startRefreshFamily(
  input: { id: string; sessionId: SessionId; userId: UserId; now: number },
  lifetimes: RefreshLifetimes,
): RefreshFamilyState {
  const expiresAt = input.now + lifetimes.refreshAbsoluteLifetimeMs;
  return {
    id: input.id,
    sessionId: input.sessionId,
    userId: input.userId,
    createdAt: input.now,
    expiresAt,
    idleExpiresAt: Math.min(input.now + lifetimes.refreshIdleTimeoutMs, expiresAt),
    revokedAt: null,
    revokedReason: null,
  };
}

export type RefreshFamilyStatus =
  { kind: 'active' } | { kind: 'revoked'; reason: string | null } | { kind: 'expired'; reason: 'idle' | 'absolute' };

export function refreshFamilyStatus(family: RefreshFamilyState, now: number): RefreshFamilyStatus {
  if (family.revokedAt !== null) return { kind: 'revoked', reason: family.revokedReason };
  if (now >= family.expiresAt) return { kind: 'expired', reason: 'absolute' };
  if (now >= family.idleExpiresAt) return { kind: 'expired', reason: 'idle' };
  return { kind: 'active' };
}

/** Each refresh slides the inactivity expiry, never past the absolute one. */
export const nextIdleExpiry = (family: RefreshFamilyState, now: number, lifetimes: RefreshLifetimes): number =>
  Math.min(now + lifetimes.refreshIdleTimeoutMs, family.expiresAt);
