/**
 * What an app's request presents to twofold, read from its headers without any framework: the
 * Authorization bearer and twofold's own cookies (never the app's other cookies).
 */

/** The parts of an incoming request the middleware reads, framework-neutral. */
export interface IncomingRequest {
  authorization?: string | undefined;
  cookie?: string | undefined;
  userAgent?: string | undefined;
  /** The client's address as the app sees it (Express `req.ip`, Fastify `request.ip`). */
  clientIp?: string | undefined;
}

/** Larger than any token twofold issues; longer values are refused before any parsing or forwarding. */
export const MAX_CREDENTIAL_LENGTH = 4096;

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** twofold's cookies: the session, the pending sign-in, CSRF and device cookies, with or without a prefix. */
const TWOFOLD_COOKIE = /^(?:__Host-|__Secure-)?twofold_[a-z]+$/;
const SESSION_COOKIE = /^(?:__Host-|__Secure-)?twofold_session$/;

export type Presented =
  | { kind: 'none' }
  | { kind: 'malformed' }
  | { kind: 'bearer'; token: string; jwt: boolean }
  /** `cookieHeader` holds only twofold's cookies, ready to forward. */
  | { kind: 'cookie'; cookieHeader: string };

/** RFC 6750 §2.1: `Authorization: Bearer <token>`; the scheme is case-insensitive. */
export function bearerOf(authorization: string | undefined): string | undefined | null {
  if (authorization === undefined) return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(authorization);
  return match ? match[1]! : null;
}

/** The bearer first (as twofold reads it), else twofold's session cookie. */
export function presentedCredential(request: IncomingRequest, allowCookie: boolean): Presented {
  const bearer = bearerOf(request.authorization);
  if (bearer === null) return { kind: 'malformed' };
  if (bearer !== undefined) {
    if (bearer.length > MAX_CREDENTIAL_LENGTH) return { kind: 'malformed' };
    return { kind: 'bearer', token: bearer, jwt: JWT_SHAPE.test(bearer) };
  }
  if (!allowCookie || request.cookie === undefined) return { kind: 'none' };
  const cookies = twofoldCookies(request.cookie);
  if (!cookies.some(([name]) => SESSION_COOKIE.test(name))) return { kind: 'none' };
  const cookieHeader = cookies.map(([name, value]) => `${name}=${value}`).join('; ');
  if (cookieHeader.length > MAX_CREDENTIAL_LENGTH) return { kind: 'malformed' };
  return { kind: 'cookie', cookieHeader };
}

/** twofold's cookies from a Cookie header (RFC 6265 §5.4 pairs), values left as sent. */
export function twofoldCookies(header: string): Array<[string, string]> {
  const found: Array<[string, string]> = [];
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    // Values go into a header of our own request: only cookie-octets (RFC 6265 §4.1.1) pass.
    if (TWOFOLD_COOKIE.test(name) && /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/.test(value)) found.push([name, value]);
  }
  return found;
}
