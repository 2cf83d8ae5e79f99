import type { SessionId, TokenHash, UserId } from '../core/ids.js';
import type { Session } from '../core/session/session.js';
import type { TotpAlgorithm } from '../core/factors/totp.js';

/** One interface per aggregate; sqlite/ implements them today and other stores plug in behind them. */

export interface User {
  id: UserId;
  username: string;
  displayName: string;
  email: string | null;
  passwordHash: string;
  isAdmin: boolean;
  disabled: boolean;
  factorFailures: number;
  createdAt: number;
  updatedAt: number;
}

export class UsernameTakenError extends Error {
  constructor(username: string) {
    super(`the username "${username}" is taken`);
    this.name = 'UsernameTakenError';
  }
}

export interface UserStore {
  /** Throws UsernameTakenError when the (normalised) username exists. */
  create(user: User): Promise<void>;
  findById(id: UserId): Promise<User | undefined>;
  findByUsername(username: string): Promise<User | undefined>;
  list(): Promise<User[]>;
  count(): Promise<number>;
  setPasswordHash(id: UserId, passwordHash: string, now: number): Promise<void>;
  setDisabled(id: UserId, disabled: boolean, now: number): Promise<void>;
  /** Atomically adds one failure and returns the new count. */
  addFactorFailure(id: UserId): Promise<number>;
  resetFactorFailures(id: UserId): Promise<void>;
}

export interface TotpFactor {
  id: string;
  userId: UserId;
  secretSealed: string;
  algorithm: TotpAlgorithm;
  digits: number;
  period: number;
  confirmedAt: number | null;
  lastUsedStep: number | null;
  createdAt: number;
}

export interface FactorStore {
  findConfirmedTotp(userId: UserId): Promise<TotpFactor | undefined>;
  findPendingTotp(userId: UserId): Promise<TotpFactor | undefined>;
  /** Stores an unconfirmed secret, replacing any earlier unconfirmed one. */
  savePendingTotp(factor: TotpFactor): Promise<void>;
  /**
   * Makes the pending factor the user's TOTP factor (replacing the old one), records the step its
   * confirmation code used, and replaces the recovery codes: all in one transaction.
   */
  confirmTotp(factorId: string, userId: UserId, step: number, recoveryCodeHashes: string[], now: number): Promise<boolean>;
  /** Atomic replay guard: true only if `step` is newer than the last step accepted for this factor. */
  claimTotpStep(factorId: string, step: number): Promise<boolean>;
  replaceRecoveryCodes(userId: UserId, codeHashes: string[], now: number): Promise<void>;
  /** Atomically marks an unused code used; false if it does not exist or was used. */
  useRecoveryCode(userId: UserId, codeHash: string, now: number): Promise<boolean>;
  countRecoveryCodesLeft(userId: UserId): Promise<number>;
  /** Removes every second factor of the user (admin reset). */
  removeAll(userId: UserId): Promise<void>;
}

export interface SessionFilter {
  userId?: UserId;
}

export interface SessionStore {
  create(session: Session, tokenHash: TokenHash): Promise<void>;
  findByTokenHash(tokenHash: TokenHash): Promise<Session | undefined>;
  findById(id: SessionId): Promise<Session | undefined>;
  touch(id: SessionId, lastSeenAt: number, idleExpiresAt: number): Promise<void>;
  /** Sessions neither revoked nor expired at `now`, newest first. */
  listActive(now: number, filter?: SessionFilter): Promise<Session[]>;
  /** False when the session was already revoked or does not exist. */
  revoke(id: SessionId, now: number, reason: string): Promise<boolean>;
  /** Revokes every live session of the user except `exceptId`; returns how many. */
  revokeAllForUser(userId: UserId, now: number, reason: string, exceptId?: SessionId): Promise<number>;
}

export interface PendingLogin {
  id: string;
  userId: UserId;
  createdAt: number;
  expiresAt: number;
  attempts: number;
  consumedAt: number | null;
  ip: string;
  userAgent: string;
}

export interface PendingLoginStore {
  create(pending: PendingLogin, tokenHash: TokenHash): Promise<void>;
  findByTokenHash(tokenHash: TokenHash): Promise<PendingLogin | undefined>;
  /** Atomically counts one more code attempt; returns the new count. */
  addAttempt(id: string): Promise<number>;
  /** Single use: true only for the first caller. */
  consume(id: string, now: number): Promise<boolean>;
}

export interface SetupTokenStore {
  /** Invalidates every earlier setup token and stores this one. */
  replace(tokenHash: TokenHash, now: number, expiresAt: number): Promise<void>;
  /** Single use, unexpired: true only for the first caller. */
  consume(tokenHash: TokenHash, now: number): Promise<boolean>;
  isValid(tokenHash: TokenHash, now: number): Promise<boolean>;
}

export type EventOutcome = 'success' | 'failure' | 'info';

export interface AuditEvent {
  id?: number;
  at: number;
  type: string;
  outcome: EventOutcome;
  userId: UserId | null;
  sessionId: SessionId | null;
  ip: string | null;
  userAgent: string | null;
  reason: string | null;
  detail: Record<string, unknown> | null;
}

export interface EventFilter {
  userId?: UserId;
  /** Events with an id lower than this (pagination, newest first). */
  beforeId?: number;
  limit: number;
}

export interface EventStore {
  append(event: AuditEvent): Promise<void>;
  list(filter: EventFilter): Promise<AuditEvent[]>;
}

export interface Store {
  users: UserStore;
  factors: FactorStore;
  sessions: SessionStore;
  pendingLogins: PendingLoginStore;
  setupTokens: SetupTokenStore;
  events: EventStore;
  /** Throws if the store cannot answer (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
