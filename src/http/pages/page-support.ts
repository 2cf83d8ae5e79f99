import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../auth/errors.js';
import { authenticate } from '../../auth/sessions.js';
import type { HttpContext } from '../http-context.js';
import { layout, type PageShell } from './layout.js';

/** Shared plumbing of the page routes: rendering, redirects, the session gate. */

export function sendPage(reply: FastifyReply, shell: PageShell, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(layout(shell).value);
}

/** Post/Redirect/Get: every successful form post answers 303 so a reload does not post again. */
export const seeOther = (reply: FastifyReply, location: string): FastifyReply => reply.redirect(location, 303);

/**
 * Where to go after signing in. Only a local path is accepted: it must start with a single '/'
 * (not '//' nor '/\', which browsers read as another host) and hold no whitespace or control
 * characters (browsers drop tabs and newlines, turning '/\t/evil' into '//evil').
 */
export function safeReturnTo(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 1024) return undefined;
  if (!/^\/(?![/\\])[\x21-\x7e]*$/.test(value) || value.includes('\\')) return undefined;
  return value;
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
