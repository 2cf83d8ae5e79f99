import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthDeps } from '../auth/deps.js';
import { authenticate, revokeSession, type IssuedSession } from '../auth/sessions.js';
import { newSecretToken } from '../core/ids.js';
import type { Cookies } from './cookies.js';
import { requestContext } from './request-auth.js';

/** What every route plugin is given. */
export interface HttpContext {
  deps: AuthDeps;
  cookies: Cookies;
}

/**
 * Hands a new session to the browser: the session cookie plus a fresh CSRF token that lives as long.
 * Returns the new CSRF token, for a page answering this very request with forms (e.g. Sign out).
 */
export function setSessionCookies(ctx: HttpContext, reply: FastifyReply, issued: IssuedSession): string {
  const now = ctx.deps.clock.now();
  const csrfToken = newSecretToken(ctx.deps.random);
  ctx.cookies.setSession(reply, issued.token, issued.session.expiresAt, now);
  ctx.cookies.setCsrf(reply, csrfToken, issued.session.expiresAt, now);
  return csrfToken;
}

export function setPendingCookies(ctx: HttpContext, reply: FastifyReply, token: string, expiresAt: number): void {
  const now = ctx.deps.clock.now();
  ctx.cookies.setPending(reply, token, expiresAt, now);
  ctx.cookies.setCsrf(reply, newSecretToken(ctx.deps.random), expiresAt, now);
}

/**
 * A sign-in in a browser that still holds a live session cookie ends that session (ASVS 5.0 V7.2.4):
 * its cookie is about to be overwritten, and a copy of the old token must not stay valid.
 */
export async function setSignInCookies(
  ctx: HttpContext,
  request: FastifyRequest,
  reply: FastifyReply,
  issued: IssuedSession,
): Promise<string> {
  const previous = ctx.cookies.sessionToken(request);
  if (previous !== undefined) {
    const auth = await authenticate(ctx.deps, previous);
    if (auth.kind === 'authenticated' && auth.session.id !== issued.session.id)
      await revokeSession(ctx.deps, auth.session, 'replaced_by_sign_in', requestContext(request));
  }
  return setSessionCookies(ctx, reply, issued);
}
