import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Cookies } from './cookies.js';
import { sendError } from './errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const equalTokens = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * CSRF defence for cookie-authenticated writes (OWASP CSRF cheat sheet):
 * - an Origin header that is present must be our public origin, whatever else the request carries;
 * - a write that carries one of our cookies and no Origin must echo the twofold_csrf cookie in
 *   X-CSRF-Token (or the _csrf form field): a double submit a cross-site page cannot read;
 * - Bearer requests carry no ambient credential, so they need neither.
 */
export function csrfGuard(cookies: Cookies, publicOrigin: string) {
  return async function checkCsrf(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    if (SAFE_METHODS.has(request.method)) return undefined;
    if ((request.routeOptions.config as { gate?: boolean } | undefined)?.gate) return undefined;
    if (request.headers.authorization?.startsWith('Bearer ')) return undefined;
    const origin = request.headers.origin;
    if (origin !== undefined) {
      if (origin === publicOrigin) return undefined;
      return sendError(reply, 403, 'csrf_failed', 'Cross-site request refused: its Origin is not this site.');
    }
    const carriesCookie = cookies.sessionToken(request) !== undefined || cookies.pendingToken(request) !== undefined;
    if (!carriesCookie) return undefined;
    const expected = cookies.csrfToken(request);
    const header = request.headers['x-csrf-token'];
    const body = request.body as Record<string, unknown> | undefined;
    const presented = typeof header === 'string' ? header : typeof body?._csrf === 'string' ? body._csrf : undefined;
    if (expected && presented && equalTokens(expected, presented)) return undefined;
    return sendError(reply, 403, 'csrf_failed', 'Missing or wrong CSRF token: send the twofold_csrf cookie value in X-CSRF-Token.');
  };
}
