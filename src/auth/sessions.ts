import { hashToken, looksLikeSecretToken, newSecretToken, newSessionId, type SessionId, type TokenHash } from '../core/ids.js';
import {
  sessionStatus,
  startSession,
  touch,
  type FactorUse,
  type Session,
  type SessionKind,
  type SessionOrigin,
} from '../core/session/session.js';
import type { SessionType, User } from '../store/store.js';
import { deviceHash } from '../context/device-cookie.js';
import { recordEvent } from './audit.js';
import { lifetimesOf, type AuthDeps, type RequestContext } from './deps.js';
import { AppError } from './errors.js';
import { assertRecentAuthentication } from './sensitive-actions.js';
import type { CachedAuthentication } from './session-cache.js';
import { sessionLifetimesFor } from './token-lifetimes.js';
import { lifetimesForRisk } from '../core/policy/risk-lifetimes.js';
import type { RiskBand } from '../core/risk/policy.js';

export interface IssuedSession {
  session: Session;
  /** The bearer secret: handed to the client once, stored only as its SHA-256. */
  token: string;
  /** 'tokens': hand the client access and refresh tokens (auth/refresh-tokens.ts), not this secret. */
  sessionType?: SessionType;
}

/**
 * The device a cookie session is bound to for continuous evaluation: the browser's device cookie
 * when it already had one or is handed one with this sign-in (auth/risk/sign-in-risk.ts does, when
 * risk is on), else the device of the session a step-up replaces.
 */
function boundDevice(deps: AuthDeps, ctx: RequestContext): string | undefined {
  if (ctx.device && (!ctx.device.isNew || deps.risk !== undefined)) return deviceHash(ctx.device);
  return ctx.boundDeviceHash;
}

/** Every (re)authentication gets a brand-new session and token (OWASP: renew the id on privilege change). */
export async function issueSession(
  deps: AuthDeps,
  user: User,
  kind: SessionKind,
  amr: FactorUse[],
  ctx: RequestContext,
  sessionType: SessionType = 'cookie',
  /** The sign-in's risk band: riskier sign-ins get shorter sessions (core/policy/risk-lifetimes.ts). */
  riskBand?: RiskBand,
  /** The sign-in's country, network and risk verdict, kept for the admin console (never for access). */
  origin?: SessionOrigin,
): Promise<IssuedSession> {
  const token = newSecretToken(deps.random);
  const configured = sessionLifetimesFor(deps.config, sessionType);
  const lifetimes = lifetimesForRisk(configured, riskBand, deps.config.sessionByRisk);
  const session = startSession(
    { id: newSessionId(deps.random), userId: user.id, kind, amr, now: deps.clock.now(), ip: ctx.ip, userAgent: ctx.userAgent },
    lifetimes,
  );
  if (lifetimes.idleTimeoutMs < configured.idleTimeoutMs) session.idleTimeoutMs = lifetimes.idleTimeoutMs;
  const device = sessionType === 'cookie' ? boundDevice(deps, ctx) : undefined;
  if (device !== undefined) session.deviceHash = device;
  if (origin) session.origin = origin;
  await deps.store.sessions.create(session, hashToken(token));
  await recordEvent(
    deps,
    {
      type: 'session.created',
      outcome: 'success',
      userId: user.id,
      sessionId: session.id,
      detail: { kind, aal: session.aal, amr: amr.map((u) => u.method) },
    },
    ctx,
  );
  return { session, token, sessionType };
}

/** A session's origin as stored: the copy authenticate() hands out does not load it (hot path). */
export async function storedOrigin(deps: AuthDeps, session: Session): Promise<SessionOrigin | undefined> {
  return session.origin ?? (await deps.store.sessions.findById(session.id))?.origin;
}

export type Authentication =
  | { kind: 'authenticated'; session: Session; user: User }
  | { kind: 'unauthenticated'; reason: 'missing' | 'malformed' | 'unknown' | 'revoked' | 'expired' | 'user_disabled' };

/**
 * Resolves a bearer token to its live session, sliding the idle expiry (throttled write). This is
 * the hot path of every gated request: a cache hit costs a SHA-256 and a map lookup. It answers
 * synchronously when the session cache holds the session and any touch due is only queued (the
 * serving stores batch them: batched-touches.ts), so a gated request makes no promise on the way;
 * otherwise (a cache miss, a store that writes the touch at once) it returns a promise. Callers
 * await it either way.
 */
export function authenticate(deps: AuthDeps, token: string | undefined): Authentication | Promise<Authentication> {
  if (!token) return { kind: 'unauthenticated', reason: 'missing' };
  if (!looksLikeSecretToken(token)) return { kind: 'unauthenticated', reason: 'malformed' };
  const tokenHash = hashToken(token);
  const now = deps.clock.now();
  const found = deps.sessionCache.get(tokenHash);
  return found ? judge(deps, found, now) : lookUp(deps, tokenHash, now);
}

/** A session the cache does not hold, read from the store (and cached when live). */
async function lookUp(deps: AuthDeps, tokenHash: TokenHash, now: number): Promise<Authentication> {
  const snapshot = deps.sessionCache.snapshot();
  const session = await deps.store.sessions.findByTokenHash(tokenHash);
  if (!session) return { kind: 'unauthenticated', reason: 'unknown' };
  const user = await deps.store.users.findById(session.userId);
  if (!user) return { kind: 'unauthenticated', reason: 'user_disabled' };
  const found = { session, user };
  if (sessionStatus(session, now).kind === 'active' && !user.disabled) deps.sessionCache.set(tokenHash, found, snapshot);
  return judge(deps, found, now);
}

/** Whether a session found is live now; when a touch is due and the store writes it at once, the answer waits for it. */
function judge(deps: AuthDeps, { session, user }: CachedAuthentication, now: number): Authentication | Promise<Authentication> {
  const status = sessionStatus(session, now);
  if (status.kind === 'revoked') return { kind: 'unauthenticated', reason: 'revoked' };
  if (status.kind === 'expired') return { kind: 'unauthenticated', reason: 'expired' };
  if (user.disabled) return { kind: 'unauthenticated', reason: 'user_disabled' };
  const touched = touch(session, now, lifetimesOf(deps.config));
  if (!touched) return { kind: 'authenticated', session, user };
  const written = deps.store.sessions.touch(session.id, touched.lastSeenAt, touched.idleExpiresAt);
  const authenticated = (): Authentication => {
    Object.assign(session, touched);
    return { kind: 'authenticated', session, user };
  };
  return written === undefined ? authenticated() : written.then(authenticated);
}

export async function listSessions(deps: AuthDeps, user: User): Promise<Session[]> {
  return deps.store.sessions.listActive(deps.clock.now(), { userId: user.id });
}

/**
 * A user may revoke only their own sessions; someone else's id answers not_found, like an unknown one.
 * Ending another session needs a recently proven factor (ASVS 5.0 V7.5.2), so a stolen session
 * cannot sign its owner out; ending this one (logout) never does.
 */
export async function revokeOwnSession(deps: AuthDeps, user: User, current: Session, id: SessionId, ctx: RequestContext): Promise<void> {
  const target = await deps.store.sessions.findById(id);
  if (!target || target.userId !== user.id) throw new AppError('not_found', 'No such session.');
  if (id !== current.id) await assertRecentAuthentication(deps, user, current);
  await revokeSession(deps, target, id === current.id ? 'logout' : 'revoked_by_user', ctx);
}

/** "Sign out everywhere else": like revoking one other session, it needs a recent factor (V7.5.2). */
export async function revokeMyOtherSessions(deps: AuthDeps, user: User, current: Session, ctx: RequestContext): Promise<number> {
  await assertRecentAuthentication(deps, user, current);
  return revokeOtherSessions(deps, user, current, 'revoked_by_user', ctx);
}

export async function revokeSession(deps: AuthDeps, session: Session, reason: string, ctx: RequestContext | null): Promise<boolean> {
  const revoked = await deps.store.sessions.revoke(session.id, deps.clock.now(), reason);
  if (revoked) {
    await recordEvent(
      deps,
      {
        type: reason === 'logout' ? 'session.logout' : 'session.revoked',
        outcome: 'success',
        userId: session.userId,
        sessionId: session.id,
        reason,
      },
      ctx,
    );
  }
  return revoked;
}

export async function revokeOtherSessions(
  deps: AuthDeps,
  user: User,
  keep: Session | null,
  reason: string,
  ctx: RequestContext | null,
): Promise<number> {
  const count = await deps.store.sessions.revokeAllForUser(user.id, deps.clock.now(), reason, keep?.id);
  if (count > 0) {
    await recordEvent(
      deps,
      { type: 'session.revoked', outcome: 'success', userId: user.id, sessionId: keep?.id ?? null, reason, detail: { count } },
      ctx,
    );
  }
  return count;
}
