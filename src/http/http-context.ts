import type { FastifyReply } from 'fastify';
import type { AuthDeps } from '../auth/deps.js';
import type { IssuedSession } from '../auth/sessions.js';
import { newSecretToken } from '../core/ids.js';
import type { Cookies } from './cookies.js';

/** What every route plugin is given. */
export interface HttpContext {
  deps: AuthDeps;
  cookies: Cookies;
}

/** Hands a new session to the browser: the session cookie plus a fresh CSRF token that lives as long. */
export function setSessionCookies(ctx: HttpContext, reply: FastifyReply, issued: IssuedSession): void {
  const now = ctx.deps.clock.now();
  ctx.cookies.setSession(reply, issued.token, issued.session.expiresAt, now);
  ctx.cookies.setCsrf(reply, newSecretToken(ctx.deps.random), issued.session.expiresAt, now);
}

export function setPendingCookies(ctx: HttpContext, reply: FastifyReply, token: string, expiresAt: number): void {
  const now = ctx.deps.clock.now();
  ctx.cookies.setPending(reply, token, expiresAt, now);
  ctx.cookies.setCsrf(reply, newSecretToken(ctx.deps.random), expiresAt, now);
}
