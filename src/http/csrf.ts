import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import type { Cookies } from './cookies.js';
import { allowedCrossOrigin, isTokenApiPath } from './cors.js';
import { sendError } from './errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

const equalTokens = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

const carriesTwofoldCookie = (cookies: Cookies, request: FastifyRequest): boolean =>
  cookies.sessionToken(request) !== undefined || cookies.pendingToken(request) !== undefined;

/**
 * CSRF defence for cookie-authenticated writes (OWASP CSRF cheat sheet):
 * - an Origin header that is present must be our public origin, whatever else the request carries;
 * - a write that carries one of our cookies and no Origin must echo the twofold_csrf cookie in
 *   X-CSRF-Token (or the _csrf form field): a double submit a cross-site page cannot read;
 * - Bearer requests carry no ambient credential, so they need neither;
 * - a token API call from an origin in cors.allowed_origins is accepted only without our cookies:
 *   such a page may spend the tokens it holds, never the browser's twofold session.
 */
export function csrfGuard(cookies: Cookies, publicOrigin: string, crossOrigins: Config['cors'] = { allowedOrigins: [], maxAgeMs: 0 }) {
  return async function checkCsrf(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    if (SAFE_METHODS.has(request.method)) return undefined;
    if ((request.routeOptions.config as { gate?: boolean } | undefined)?.gate) return undefined;
    if (request.headers.authorization?.startsWith('Bearer ')) return undefined;
    const origin = request.headers.origin;
    if (origin !== undefined) {
      if (origin === publicOrigin) return undefined;
      if (allowedCrossOrigin(crossOrigins, origin) && isTokenApiPath(request.url)) {
        if (!carriesTwofoldCookie(cookies, request)) return undefined;
        return sendError(reply, 403, 'csrf_failed', 'Cross-origin requests must not carry twofold cookies: send the Bearer token only.');
      }
      return sendError(reply, 403, 'csrf_failed', 'Cross-site request refused: its Origin is not this site.');
    }
    if (!carriesTwofoldCookie(cookies, request)) return undefined;
    const expected = cookies.csrfToken(request);
    const header = request.headers['x-csrf-token'];
    const body = request.body as Record<string, unknown> | undefined;
    const presented = typeof header === 'string' ? header : typeof body?._csrf === 'string' ? body._csrf : undefined;
    if (expected && presented && equalTokens(expected, presented)) return undefined;
    return sendError(reply, 403, 'csrf_failed', 'Missing or wrong CSRF token: send the twofold_csrf cookie value in X-CSRF-Token.');
  };
}
