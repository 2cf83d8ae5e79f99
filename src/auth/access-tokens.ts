import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { newRecordId, type SessionId, type TokenHash } from '../core/ids.js';
import { sessionStatus, touch, type Session } from '../core/session/session.js';
import { accessClaims } from '../core/tokens/access-claims.js';
import type { User } from '../store/store.js';
import type { AuthDeps } from './deps.js';
import { tokenSessionLifetimes } from './token-lifetimes.js';

/** RFC 9068 §2.1: access tokens say what they are, so an ID token or other JWT cannot pass for one. */
export const ACCESS_TOKEN_TYPE = 'at+jwt';
/** Larger than any token we issue; junk longer than this is refused before any parsing. */
const MAX_ACCESS_TOKEN_LENGTH = 4096;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** Cheap: a JWT has two dots; a session token (43 base64url characters) has none. */
export const looksLikeJwt = (token: string): boolean => token.length <= MAX_ACCESS_TOKEN_LENGTH && JWT_SHAPE.test(token);

export interface IssuedAccessToken {
  accessToken: string;
  /** Seconds, as OAuth's expires_in counts them. */
  expiresIn: number;
}

/** A short-lived JWT for the session, signed with the active Ed25519 key. */
export async function issueAccessToken(deps: AuthDeps, session: Session): Promise<IssuedAccessToken> {
  const { tokens } = deps.config;
  const key = await deps.keyRing.signingKey();
  const claims = accessClaims(session, {
    issuer: tokens.issuer,
    audience: tokens.audience,
    jti: newRecordId('at', deps.random),
    now: deps.clock.now(),
    ttlMs: tokens.accessTtlMs,
  });
  const accessToken = await new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'EdDSA', kid: key.record.kid, typ: ACCESS_TOKEN_TYPE })
    .sign(key.privateKey);
  return { accessToken, expiresIn: claims.exp - claims.iat };
}

export type AccessTokenAuthentication =
  | { kind: 'authenticated'; session: Session; user: User }
  | { kind: 'unauthenticated'; reason: 'malformed' | 'invalid_token' | 'expired' | 'unknown' | 'revoked' | 'user_disabled' };

/**
 * Tokens whose signature and claims were already verified, by their exact text: an app sends the
 * same access token on every call for its lifetime, and the Ed25519 check is ~50x the rest of a
 * validation (bench/access-token.ts). Only what cannot change is remembered; expiry and the
 * session are checked on every use. Bounded; the oldest entry goes first.
 */
const MAX_VERIFIED = 10_000;
const verifiedByRing = new WeakMap<object, Map<string, JWTPayload>>();
function verifiedTokens(ring: object): Map<string, JWTPayload> {
  let verified = verifiedByRing.get(ring);
  if (!verified) verifiedByRing.set(ring, (verified = new Map()));
  return verified;
}

/** The session cache is keyed by token hash; a session reached by its id gets a key of its own shape. */
const cacheKeyOf = (sid: SessionId): TokenHash => `sid:${sid}` as TokenHash;

/**
 * twofold's own validation of an access token: the signature, issuer, audience, type and expiry
 * (jose), then the session it names, through the session cache, so a revoked session's tokens stop
 * at once rather than when they expire. Anyone verifying offline with the JWKS has no such check:
 * for them revocation lands within the token lifetime (docs/tokens.md).
 */
export async function authenticateAccessToken(deps: AuthDeps, token: string): Promise<AccessTokenAuthentication> {
  if (!looksLikeJwt(token)) return { kind: 'unauthenticated', reason: 'malformed' };
  const { tokens } = deps.config;
  const now = deps.clock.now();
  const verified = verifiedTokens(deps.keyRing);
  let payload = verified.get(token);
  if (payload !== undefined && (payload.exp ?? 0) * 1000 <= now) return { kind: 'unauthenticated', reason: 'expired' };
  if (payload === undefined) {
    try {
      ({ payload } = await jwtVerify(
        token,
        async (header) => {
          const key = typeof header.kid === 'string' ? await deps.keyRing.verificationKey(header.kid) : undefined;
          if (!key) throw new joseErrors.JWKSNoMatchingKey();
          return key.publicKey;
        },
        {
          algorithms: ['EdDSA'],
          typ: ACCESS_TOKEN_TYPE,
          issuer: tokens.issuer,
          ...(tokens.audience.length ? { audience: tokens.audience } : {}),
          currentDate: new Date(now),
          requiredClaims: ['sub', 'sid', 'exp', 'iat', 'jti'],
        },
      ));
    } catch (err) {
      return { kind: 'unauthenticated', reason: err instanceof joseErrors.JWTExpired ? 'expired' : 'invalid_token' };
    }
    if (verified.size >= MAX_VERIFIED) verified.delete(verified.keys().next().value!);
    verified.set(token, payload);
  }
  if (typeof payload.sid !== 'string' || payload.sid.length > 64) return { kind: 'unauthenticated', reason: 'invalid_token' };

  const sid = payload.sid as SessionId;
  const cacheKey = cacheKeyOf(sid);
  let found = deps.sessionCache.get(cacheKey);
  if (!found) {
    const snapshot = deps.sessionCache.snapshot();
    const session = await deps.store.sessions.findById(sid);
    if (!session) return { kind: 'unauthenticated', reason: 'unknown' };
    const user = await deps.store.users.findById(session.userId);
    if (!user) return { kind: 'unauthenticated', reason: 'user_disabled' };
    found = { session, user };
    if (sessionStatus(session, now).kind === 'active' && !user.disabled) deps.sessionCache.set(cacheKey, found, snapshot);
  }
  const { session, user } = found;
  if (payload.sub !== session.userId) return { kind: 'unauthenticated', reason: 'invalid_token' };
  const status = sessionStatus(session, now);
  if (status.kind === 'revoked') return { kind: 'unauthenticated', reason: 'revoked' };
  if (status.kind === 'expired') return { kind: 'unauthenticated', reason: 'expired' };
  if (user.disabled) return { kind: 'unauthenticated', reason: 'user_disabled' };
  const touched = touch(session, now, tokenSessionLifetimes(deps.config));
  if (touched) {
    await deps.store.sessions.touch(session.id, touched.lastSeenAt, touched.idleExpiresAt);
    Object.assign(session, touched);
  }
  return { kind: 'authenticated', session, user };
}
