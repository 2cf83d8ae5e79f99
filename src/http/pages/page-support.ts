import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../auth/errors.js';
import { authenticate } from '../../auth/sessions.js';
import type { Config } from '../../config.js';
import { safeReturnTo as coreSafeReturnTo, type ReturnToRules } from '../../core/access/return-to.js';
import type { HttpContext } from '../http-context.js';
import { layout, type PageShell } from './layout.js';

/** Shared plumbing of the page routes: rendering, redirects, the session gate. */

export function sendPage(reply: FastifyReply, shell: PageShell, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(layout(shell).value);
}

/** Post/Redirect/Get: every successful form post answers 303 so a reload does not post again. */
export const seeOther = (reply: FastifyReply, location: string): FastifyReply => reply.redirect(location, 303);

/** Who may be sent where after signing in: the portal itself and the configured redirect domains. */
export function returnToRules(config: Config): ReturnToRules {
  return { domains: config.redirectDomains, allowHttp: config.insecureCookies, portal: config.publicUrl };
}

/**
 * Where to go after signing in or stepping up, or undefined when the address is not acceptable
 * (core/access/return-to.ts decides: a local path, or an http(s) URL within the redirect domains,
 * nothing a browser could read as another host). A place on the portal itself stays a local path.
 */
export function returnAddress(config: Config, value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const url = coreSafeReturnTo(value, returnToRules(config));
  if (!url) return undefined;
  return url.origin === config.publicUrl.origin ? `${url.pathname}${url.search}${url.hash}` : url.href;
}

/** No other host: only a path on the portal itself. */
const LOCAL_ONLY: ReturnToRules = { domains: [], allowHttp: false, portal: new URL('https://portal.invalid/') };

/** A local path ("/account?x=1") or undefined: returnAddress without any other host. */
export function safeReturnTo(value: unknown): string | undefined {
  if (typeof value !== 'string' || !value.startsWith('/')) return undefined;
  const url = coreSafeReturnTo(value, LOCAL_ONLY);
  return url ? `${url.pathname}${url.search}${url.hash}` : undefined;
}

export const loginUrl = (returnTo: string | undefined): string =>
  returnTo && returnTo !== '/' ? `/login?return_to=${encodeURIComponent(returnTo)}` : '/login';

/** Rethrows anything that is not a use case's refusal, so real failures reach the error handler. */
export function refusal(err: unknown): AppError {
  if (err instanceof AppError) return err;
  throw err;
}

/** A refusal that carries a wait also tells the browser how long (as the API does). */
export function withRetryAfter(reply: FastifyReply, err: AppError): void {
  if (err.extra.retryAfterSeconds !== undefined) reply.header('Retry-After', String(err.extra.retryAfterSeconds));
}

/**
 * The page gate: without a live session, go and sign in (coming back here afterwards for a GET);
 * a session from a password alone, still to enroll a second factor, may only reach /enroll.
 */
export function requirePageSession(ctx: HttpContext, options: { allowEnrollment?: boolean } = {}) {
  return async function pageSessionGate(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const result = await authenticate(ctx.deps, ctx.cookies.sessionToken(request));
    if (result.kind !== 'authenticated') {
      return seeOther(reply, loginUrl(request.method === 'GET' ? safeReturnTo(request.url) : undefined));
    }
    if (result.session.kind === 'enrollment' && !options.allowEnrollment) return seeOther(reply, '/enroll');
    request.auth = { session: result.session, user: result.user };
    return undefined;
  };
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** One unambiguous format for every time shown: the server cannot know the reader's time zone. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
}
