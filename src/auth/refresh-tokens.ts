import { hashToken, looksLikeSecretToken, newRecordId, newSecretToken } from '../core/ids.js';
import { sessionStatus, touch, type Session } from '../core/session/session.js';
import { nextIdleExpiry, refreshFamilyStatus, startRefreshFamily } from '../core/tokens/refresh-family.js';
import { issueAccessToken } from './access-tokens.js';
import { recordEvent } from './audit.js';
import type { AuthDeps, RequestContext } from './deps.js';
import { AppError } from './errors.js';
import { revokeSession } from './sessions.js';
import { tokenSessionLifetimes } from './token-lifetimes.js';

/** What a token sign-in or a refresh hands the client. */
export interface IssuedTokens {
  session: Session;
  accessToken: string;
  /** 256-bit opaque secret; only its SHA-256 is stored. Good for one refresh. */
  refreshToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
}

/** Starts the refresh family of a session signed in for tokens, with its first refresh token. */
export async function issueTokens(deps: AuthDeps, session: Session): Promise<IssuedTokens> {
  const refreshToken = newSecretToken(deps.random);
  const family = startRefreshFamily(
    { id: newRecordId('rtf', deps.random), sessionId: session.id, userId: session.userId, now: deps.clock.now() },
    deps.config.tokens,
  );
  await deps.store.refreshTokens.createFamily(family, hashToken(refreshToken));
  const access = await issueAccessToken(deps, session);
  return { session, accessToken: access.accessToken, refreshToken, expiresIn: access.expiresIn };
}

const invalidGrant = (why: string) =>
  new AppError('invalid_grant', 'The refresh token is not valid: sign in again.', { detail: { reason: why } });

/**
 * The refresh grant (RFC 6749 §6) with rotation: every use returns a new refresh token and spends
 * the old one. A spent token presented again means two parties hold the family, and the server
 * cannot tell which is the thief: the whole family and its session are revoked and the theft is
 * recorded (RFC 9700 §4.14.2, ASVS 5.0 10.4.5). Two concurrent refreshes with one token are the same
 * case: the database lets exactly one spend it (the other gets invalid_grant), and the family ends.
 */
export async function refreshTokens(deps: AuthDeps, presented: string, ctx: RequestContext): Promise<IssuedTokens> {
  if (!looksLikeSecretToken(presented)) throw invalidGrant('malformed');
  const tokenHash = hashToken(presented);
  const found = await deps.store.refreshTokens.find(tokenHash);
  if (!found) throw invalidGrant('unknown');
  const { family } = found;
  const now = deps.clock.now();
  const familyStatus = refreshFamilyStatus(family, now);
  if (familyStatus.kind === 'revoked') throw invalidGrant('revoked');
  if (familyStatus.kind === 'expired') throw invalidGrant('expired');

  const session = await deps.store.sessions.findById(family.sessionId);
  const user = session && (await deps.store.users.findById(session.userId));
  if (!session || !user || user.disabled || sessionStatus(session, now).kind !== 'active') {
    await deps.store.refreshTokens.revokeFamily(family.id, now, 'session_ended');
    throw invalidGrant('session_ended');
  }

  const next = newSecretToken(deps.random);
  const idleExpiresAt = nextIdleExpiry(family, now, deps.config.tokens);
  if (!(await deps.store.refreshTokens.rotate(tokenHash, hashToken(next), now, idleExpiresAt))) {
    await deps.store.refreshTokens.revokeFamily(family.id, now, 'refresh_token_reused');
    await revokeSession(deps, session, 'refresh_token_reused', ctx);
    await recordEvent(
      deps,
      {
        type: 'token.theft_detected',
        outcome: 'failure',
        userId: user.id,
        sessionId: session.id,
        reason: 'refresh_token_reused',
        detail: { family: family.id, first_used_at: found.token.usedAt === null ? null : new Date(found.token.usedAt).toISOString() },
      },
      ctx,
    );
    throw invalidGrant('reused');
  }
  // A refresh is activity for the session too (its own idle limit, e.g. a risk band's, still applies).
  const touched = touch(session, now, { ...tokenSessionLifetimes(deps.config), touchIntervalMs: 0 });
  if (touched) {
    await deps.store.sessions.touch(session.id, touched.lastSeenAt, touched.idleExpiresAt);
    Object.assign(session, touched);
  }
  const access = await issueAccessToken(deps, session);
  return { session, accessToken: access.accessToken, refreshToken: next, expiresIn: access.expiresIn };
}

/**
 * A step-up replaced a token sign-in's session: its refresh family follows the new session (the
 * refresh token in hand keeps working) and a new access token carries the fresh factor.
 */
export async function continueTokensAfterStepUp(
  deps: AuthDeps,
  previous: Session,
  next: Session,
): Promise<{ accessToken: string; expiresIn: number }> {
  await deps.store.refreshTokens.moveToSession(previous.id, next.id);
  return issueAccessToken(deps, next);
}
