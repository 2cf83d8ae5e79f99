import type { Insertable, Selectable } from 'kysely';
import type { SessionId, UserId } from '../../core/ids.js';
import type { RiskBand } from '../../core/risk/policy.js';
import type { Aal, FactorUse, Session, SessionKind, SessionOrigin } from '../../core/session/session.js';
import type { TotpAlgorithm } from '../../core/factors/totp.js';
import type { EventsTable, PendingLoginsTable, SessionsTable, TotpFactorsTable, UsersTable } from '../schema.js';
import type { AuditEvent, EventOutcome, PendingLogin, TotpFactor, User } from '../store.js';

/** Row <-> domain mapping. Number() because PostgreSQL returns bigint columns as strings. */
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export const toUser = (r: Selectable<UsersTable>): User => ({
  id: r.id as UserId,
  username: r.username,
  displayName: r.display_name,
  email: r.email,
  passwordHash: r.password_hash,
  isAdmin: num(r.is_admin) === 1,
  disabled: num(r.disabled) === 1,
  factorFailures: num(r.factor_failures),
  createdAt: num(r.created_at),
  updatedAt: num(r.updated_at),
});

export const fromUser = (u: User): UsersTable => ({
  id: u.id,
  username: u.username,
  display_name: u.displayName,
  email: u.email,
  password_hash: u.passwordHash,
  is_admin: u.isAdmin ? 1 : 0,
  disabled: u.disabled ? 1 : 0,
  factor_failures: u.factorFailures,
  created_at: u.createdAt,
  updated_at: u.updatedAt,
});

export const toTotp = (r: Selectable<TotpFactorsTable>): TotpFactor => ({
  id: r.id,
  userId: r.user_id as UserId,
  secretSealed: r.secret_sealed,
  algorithm: r.algorithm as TotpAlgorithm,
  digits: num(r.digits),
  period: num(r.period),
  confirmedAt: numOrNull(r.confirmed_at),
  lastUsedStep: numOrNull(r.last_used_step),
  createdAt: num(r.created_at),
});

export const toSession = (r: Selectable<SessionsTable>): Session => ({
  id: r.id as SessionId,
  userId: r.user_id as UserId,
  kind: r.kind as SessionKind,
  aal: num(r.aal) as Aal,
  amr: JSON.parse(r.amr) as FactorUse[],
  authTime: num(r.auth_time),
  createdAt: num(r.created_at),
  lastSeenAt: num(r.last_seen_at),
  idleExpiresAt: num(r.idle_expires_at),
  expiresAt: num(r.expires_at),
  ip: r.ip,
  userAgent: r.user_agent,
  revokedAt: numOrNull(r.revoked_at),
  revokedReason: r.revoked_reason,
  ...(r.idle_timeout_ms != null ? { idleTimeoutMs: num(r.idle_timeout_ms) } : {}),
  ...(r.device_hash != null ? { deviceHash: r.device_hash } : {}),
  // Absent when nothing is known, or when the query did not select the columns (the hot path, findByTokenHash).
  ...(r.country != null || r.asn != null || r.risk_band != null || r.risk_score != null ? { origin: toOrigin(r) } : {}),
});

const toOrigin = (r: Selectable<SessionsTable>): SessionOrigin => ({
  country: r.country ?? null,
  asn: r.asn ?? null,
  riskBand: (r.risk_band ?? null) as RiskBand | null,
  riskScore: numOrNull(r.risk_score),
});

export const fromSession = (s: Session, tokenHash: string): SessionsTable => ({
  id: s.id,
  token_hash: tokenHash,
  user_id: s.userId,
  kind: s.kind,
  aal: s.aal,
  amr: JSON.stringify(s.amr),
  auth_time: s.authTime,
  created_at: s.createdAt,
  last_seen_at: s.lastSeenAt,
  idle_expires_at: s.idleExpiresAt,
  expires_at: s.expiresAt,
  ip: s.ip,
  user_agent: s.userAgent,
  revoked_at: s.revokedAt,
  revoked_reason: s.revokedReason,
  ...(s.idleTimeoutMs !== undefined ? { idle_timeout_ms: s.idleTimeoutMs } : {}),
  ...(s.deviceHash !== undefined ? { device_hash: s.deviceHash } : {}),
  ...(s.origin ? { country: s.origin.country, asn: s.origin.asn, risk_band: s.origin.riskBand, risk_score: s.origin.riskScore } : {}),
});

export const toPendingLogin = (r: Selectable<PendingLoginsTable>): PendingLogin => ({
  id: r.id,
  userId: r.user_id as UserId,
  createdAt: num(r.created_at),
  expiresAt: num(r.expires_at),
  attempts: num(r.attempts),
  consumedAt: numOrNull(r.consumed_at),
  ip: r.ip,
  userAgent: r.user_agent,
  sessionType: r.session_type === 'tokens' ? 'tokens' : 'cookie',
});

/** An audit event as the events table stores it (the event store and the webhook outbox write it alike). */
export const fromEvent = (e: AuditEvent): Insertable<EventsTable> => ({
  at: e.at,
  type: e.type,
  outcome: e.outcome,
  user_id: e.userId,
  session_id: e.sessionId,
  ip: e.ip,
  user_agent: e.userAgent,
  reason: e.reason,
  detail: e.detail === null ? null : JSON.stringify(e.detail),
});

export const toEvent = (r: Selectable<EventsTable>): AuditEvent => ({
  id: num(r.id),
  at: num(r.at),
  type: r.type,
  outcome: r.outcome as EventOutcome,
  userId: r.user_id as UserId | null,
  sessionId: r.session_id as SessionId | null,
  ip: r.ip,
  userAgent: r.user_agent,
  reason: r.reason,
  detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
});
