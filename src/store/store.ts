import type { SessionId, TokenHash, UserId } from '../core/ids.js';
import type { Session } from '../core/session/session.js';
import type { TotpAlgorithm } from '../core/factors/totp.js';
import type { StoredChallenge } from '../core/factors/webauthn.js';
import type { AdminQueryStore } from './admin-queries.js';
import type { WebhookStore } from './webhook-store.js';
import type { LoginContext } from '../core/risk/context.js';
import type { RetentionLimits } from '../core/risk/history.js';

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
  /**
   * Slides the idle expiry. Nothing to wait for (undefined) when the write was only queued
   * (batched-touches.ts, whose errors go to its own handler); a promise when it is made now.
   */
  touch(id: SessionId, lastSeenAt: number, idleExpiresAt: number): Promise<void> | undefined;
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
  /** 'tokens': the sign-in asked for an access and a refresh token instead of a cookie. */
  sessionType?: SessionType;
}

/** How a sign-in is handed to the client: a session cookie, or access + refresh tokens (docs/tokens.md). */
export type SessionType = 'cookie' | 'tokens';

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

/** A passkey or security key (WebAuthn credential) of a user: public material only. */
export interface WebAuthnCredential {
  /** Credential id, base64url. */
  id: string;
  userId: UserId;
  name: string;
  /** COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports: string[];
  aaguid: string;
  backupEligible: boolean;
  backupState: boolean;
  createdAt: number;
  lastUsedAt: number | null;
}

/** A WebAuthn challenge as kept: the SHA-256 of the challenge and what it was issued for. */
export interface WebAuthnChallenge extends StoredChallenge {
  challengeHash: string;
  createdAt: number;
}

export interface WebAuthnStore {
  listCredentials(userId: UserId): Promise<WebAuthnCredential[]>;
  countCredentials(userId: UserId): Promise<number>;
  findCredential(id: string): Promise<WebAuthnCredential | undefined>;
  /** False when the credential id is already registered (to anyone). */
  addCredential(credential: WebAuthnCredential): Promise<boolean>;
  renameCredential(userId: UserId, id: string, name: string): Promise<boolean>;
  removeCredential(userId: UserId, id: string): Promise<boolean>;
  /**
   * Records a successful assertion: the new counter, backup state and use time. Conditional on the
   * counter still being `expectedCounter`, so two assertions racing with one counter value cannot both win.
   */
  recordUse(id: string, expectedCounter: number, update: { counter: number; backupState: boolean; at: number }): Promise<boolean>;
  /** Stores a new challenge, replacing an unanswered one for the same ceremony and binding; drops the user's expired ones. */
  saveChallenge(challenge: WebAuthnChallenge): Promise<void>;
  findChallenge(challengeHash: string): Promise<WebAuthnChallenge | undefined>;
  /** Single use: true only for the first caller, and only while unexpired. */
  consumeChallenge(challengeHash: string, now: number): Promise<boolean>;
}

/** An Ed25519 key that signs access tokens; the private half only ever sealed (docs/tokens.md). */
export interface SigningKeyRecord {
  kid: string;
  algorithm: 'EdDSA';
  /** The public key as a JWK (kty OKP, crv Ed25519), served at /.well-known/jwks.json. */
  publicJwk: Record<string, unknown>;
  /** PKCS#8 private key sealed with the master key, the kid as associated data. */
  privateSealed: string;
  createdAt: number;
  /** When a newer key took over signing; null for the active key. */
  retiredAt: number | null;
  /** A retired key verifies until every token it signed has expired. */
  verifyUntil: number | null;
}

export interface SigningKeyStore {
  add(key: SigningKeyRecord): Promise<void>;
  /** Every stored key, newest first. */
  list(): Promise<SigningKeyRecord[]>;
  /** Retires every unretired key but `exceptKid`; returns how many. */
  retireOthers(exceptKid: string, now: number, verifyUntil: number): Promise<number>;
  /** Deletes retired keys that no longer verify anything; returns how many. */
  deleteExpired(now: number): Promise<number>;
}

/** The refresh tokens of one token sign-in, bound to its session (RFC 9700 §4.14.2 "token family"). */
export interface RefreshFamily {
  id: string;
  sessionId: SessionId;
  userId: UserId;
  createdAt: number;
  /** Absolute end, whatever the activity. */
  expiresAt: number;
  /** End unless a refresh comes before. */
  idleExpiresAt: number;
  revokedAt: number | null;
  revokedReason: string | null;
}

export interface RefreshTokenRecord {
  tokenHash: TokenHash;
  familyId: string;
  issuedAt: number;
  usedAt: number | null;
}

export interface RefreshTokenStore {
  createFamily(family: RefreshFamily, firstTokenHash: TokenHash): Promise<void>;
  find(tokenHash: TokenHash): Promise<{ token: RefreshTokenRecord; family: RefreshFamily } | undefined>;
  /**
   * Atomic rotation: marks `usedHash` used only if it was unused (UPDATE … WHERE used_at IS NULL,
   * affected rows checked) and only then stores its successor and slides the family's idle expiry.
   * False when another request used it first: of two racing refreshes exactly one gets true.
   */
  rotate(usedHash: TokenHash, nextHash: TokenHash, now: number, idleExpiresAt: number): Promise<boolean>;
  /** False when the family was already revoked or does not exist. */
  revokeFamily(id: string, now: number, reason: string): Promise<boolean>;
  /** Revokes the live families of a session; returns how many. */
  revokeForSession(sessionId: SessionId, now: number, reason: string): Promise<number>;
  /** A step-up replaced the session: its families follow it. */
  moveToSession(from: SessionId, to: SessionId): Promise<number>;
}

/** Successful sign-ins as the risk engine saw them, kept within the retention window and per-user cap (migration 003). */
export interface LoginHistoryStore {
  /** Adds one sign-in and, for that user only, forgets what falls outside the limits (no rescans). */
  append(login: LoginContext, limits: RetentionLimits): Promise<void>;
  /** Every retained sign-in since `since`, oldest first, in pages (what a starting node learns from). */
  listSince(since: number, afterId: number, limit: number): Promise<Array<{ id: number; login: LoginContext }>>;
  /** Forgets every sign-in older than `before`; returns how many. */
  prune(before: number): Promise<number>;
}

/** A browser a user chose to remember: lowers the risk of its sign-ins, never bypasses a deny. */
export interface TrustedDevice {
  id: string;
  userId: UserId;
  /** SHA-256 of the device cookie's id. */
  deviceHash: string;
  /** SHA-256 of the cookie's current secret; replaced at each use. */
  secretHash: string;
  /** "Firefox 128 on Linux". */
  label: string;
  ip: string;
  /** "London, GB" or '' when unknown. */
  location: string;
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
  revokedAt: number | null;
}

export interface TrustedDeviceStore {
  create(device: TrustedDevice): Promise<void>;
  /** The user's unexpired, unrevoked record for this browser, if any. */
  findActive(userId: UserId, deviceHash: string, now: number): Promise<TrustedDevice | undefined>;
  /**
   * Rotation: every live record of this browser whose secret is `oldSecretHash` takes `newSecretHash`
   * (one browser may be remembered by several users). Returns how many changed.
   */
  rotateSecret(deviceHash: string, oldSecretHash: string, newSecretHash: string, now: number): Promise<number>;
  listActive(userId: UserId, now: number): Promise<TrustedDevice[]>;
  /** False when it is not this user's, or already revoked. */
  revoke(userId: UserId, id: string, now: number): Promise<boolean>;
  revokeAllForUser(userId: UserId, now: number): Promise<number>;
}

/**
 * Deletes rows that ended long ago, at most `limit` a call so no call holds the store for long;
 * each returns how many rows went. `before` is an epoch-ms cut-off.
 */
export interface HousekeepingStore {
  /** Sessions whose absolute expiry is before the cut-off (so they ended by then), with their refresh tokens. */
  deleteSessionsExpiredBefore(before: number, limit: number): Promise<number>;
  /** Sign-ins waiting for a second factor that expired before the cut-off. */
  deletePendingLoginsExpiredBefore(before: number, limit: number): Promise<number>;
  /** WebAuthn challenges that expired before the cut-off. */
  deleteWebAuthnChallengesExpiredBefore(before: number, limit: number): Promise<number>;
  /** Webhook deliveries made before the cut-off and finished (delivered or given up), with their attempt log. */
  deleteFinishedWebhookDeliveriesBefore(before: number, limit: number): Promise<number>;
}

export interface Store {
  users: UserStore;
  factors: FactorStore;
  sessions: SessionStore;
  pendingLogins: PendingLoginStore;
  setupTokens: SetupTokenStore;
  events: EventStore;
  signingKeys: SigningKeyStore;
  refreshTokens: RefreshTokenStore;
  webauthn: WebAuthnStore;
  loginHistory: LoginHistoryStore;
  trustedDevices: TrustedDeviceStore;
  /** Webhook endpoints, the delivery outbox and its log (migration 007). */
  webhooks: WebhookStore;
  /** Cross-user read-only queries of the admin console. */
  admin: AdminQueryStore;
  /** Deletes what ended long ago (src/housekeeping). */
  housekeeping: HousekeepingStore;
  /** Throws if the store cannot answer (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * What other processes changed, that a cache of sessions and users may hold, since the last time
 * this was asked: nothing (null), these sessions and users, or 'unknown' (drop everything).
 * SQLite's answer: src/store/sqlite/cache-invalidations.ts.
 */
export type ExternalChanges = null | 'unknown' | { sessions: readonly string[]; users: readonly string[] };
