import type { SessionId, UserId } from '../ids.js';
import type { RiskBand } from '../risk/policy.js';

/**
 * Authentication method references, RFC 8176 names where one exists:
 * pwd = password, otp = TOTP code, rc = recovery code (twofold's own name; RFC 8176 has none),
 * hwk = a WebAuthn passkey or security key (proof of possession of a key held by an authenticator).
 */
export type AuthMethod = 'pwd' | 'otp' | 'rc' | 'hwk';

/** When a factor was last proven in this session: what step-up freshness is judged by. */
export interface FactorUse {
  method: AuthMethod;
  at: number;
}

/** 'enrollment' sessions come from a password alone when a second factor is required but missing: they may only enroll one. */
export type SessionKind = 'full' | 'enrollment';

/** Authenticator assurance level (NIST 800-63B): 1 = one factor, 2 = two distinct factors. */
export type Aal = 1 | 2;

export interface Session {
  id: SessionId;
  userId: UserId;
  kind: SessionKind;
  aal: Aal;
  amr: FactorUse[];
  /** When the user last authenticated (OIDC auth_time), in ms. */
  authTime: number;
  createdAt: number;
  lastSeenAt: number;
  idleExpiresAt: number;
  expiresAt: number;
  ip: string;
  userAgent: string;
  revokedAt: number | null;
  revokedReason: string | null;
  /** This session's own idle timeout when risk made it shorter than the configured one (core/policy/risk-lifetimes.ts). */
  idleTimeoutMs?: number;
  /** SHA-256 of the device cookie id a browser's cookie session began with (core/session/continuity.ts). */
  deviceHash?: string;
  /**
   * Where the sign-in that opened this session came from and how risky it looked (migration 005).
   * For the admin console's filters only: no access decision reads it, and the session hot path
   * (authenticate) does not load it.
   */
  origin?: SessionOrigin;
}

/** The sign-in's context as the risk engine saw it; null where unknown (no geo data, risk off). */
export interface SessionOrigin {
  /** ISO 3166 country code ("PT"). */
  country: string | null;
  /** Autonomous system number as text ("29695"). */
  asn: string | null;
  /** The band the risk engine judged, even below risk_policy.min_history where it was not enforced. */
  riskBand: RiskBand | null;
  riskScore: number | null;
}

export interface SessionLifetimes {
  idleTimeoutMs: number;
  absoluteLifetimeMs: number;
  touchIntervalMs: number;
  enrollmentLifetimeMs: number;
}

/** Two distinct factor kinds make AAL2; a password plus a code does, a code alone does not. */
export function aalOf(amr: readonly FactorUse[]): Aal {
  const kinds = new Set(amr.map((use) => (use.method === 'pwd' ? 'know' : 'have')));
  return kinds.size >= 2 ? 2 : 1;
}

/** The lifetime of every session is decided here and nowhere else. */
export function startSession(
  input: { id: SessionId; userId: UserId; kind: SessionKind; amr: FactorUse[]; now: number; ip: string; userAgent: string },
  lifetimes: SessionLifetimes,
): Session {
  const { now } = input;
  const expiresAt = now + (input.kind === 'enrollment' ? lifetimes.enrollmentLifetimeMs : lifetimes.absoluteLifetimeMs);
  return {
    id: input.id,
    userId: input.userId,
    kind: input.kind,
    aal: aalOf(input.amr),
    amr: input.amr,
    authTime: Math.max(...input.amr.map((use) => use.at), now),
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: Math.min(now + lifetimes.idleTimeoutMs, expiresAt),
    expiresAt,
    ip: input.ip,
    userAgent: input.userAgent,
    revokedAt: null,
    revokedReason: null,
  };
}

export type SessionStatus =
  { kind: 'active' } | { kind: 'revoked'; reason: string | null } | { kind: 'expired'; reason: 'idle' | 'absolute' };

export function sessionStatus(session: Session, now: number): SessionStatus {
  if (session.revokedAt !== null) return { kind: 'revoked', reason: session.revokedReason };
  if (now >= session.expiresAt) return { kind: 'expired', reason: 'absolute' };
  if (now >= session.idleExpiresAt) return { kind: 'expired', reason: 'idle' };
  return { kind: 'active' };
}

/**
 * Activity slides the idle expiry, capped by the absolute one. The write is throttled to one per
 * touch interval so that validating a session is normally a read only.
 */
export function touch(session: Session, now: number, lifetimes: SessionLifetimes): { lastSeenAt: number; idleExpiresAt: number } | null {
  if (now - session.lastSeenAt < lifetimes.touchIntervalMs) return null;
  const idleTimeoutMs = Math.min(session.idleTimeoutMs ?? lifetimes.idleTimeoutMs, lifetimes.idleTimeoutMs);
  return { lastSeenAt: now, idleExpiresAt: Math.min(now + idleTimeoutMs, session.expiresAt) };
}
