import type { FastifyReply, FastifyRequest } from 'fastify';
// reply.setCookie is declared by @fastify/cookie (registered in server.ts): its types, for whoever compiles this file alone.
import type {} from '@fastify/cookie';
import type { Config } from '../config.js';

/**
 * Cookie names carry the __Host- prefix: the browser then only accepts them Secure, from this
 * exact host, with Path=/ and no Domain, so a sibling subdomain cannot plant or overwrite them.
 * With cookie_domain set (single sign-on across sub-domains) they carry Domain and the __Secure- prefix.
 * In plain-http localhost development the prefix and Secure flag are dropped (browsers refuse them over http).
 */
export interface CookieNames {
  session: string;
  pending: string;
  csrf: string;
}

export function cookieNames(config: Config): CookieNames {
  // A cookie shared with sub-domains cannot be __Host- (that forbids Domain); __Secure- still forces Secure.
  const prefix = config.insecureCookies ? '' : config.cookieDomain ? '__Secure-' : '__Host-';
  return { session: `${prefix}twofold_session`, pending: `${prefix}twofold_pending`, csrf: `${prefix}twofold_csrf` };
}

export class Cookies {
  readonly names: CookieNames;
  constructor(private readonly config: Config) {
    this.names = cookieNames(config);
  }

  private base(httpOnly: boolean, expiresAt: number, now: number) {
    return {
      path: '/',
      httpOnly,
      secure: !this.config.insecureCookies,
      sameSite: 'lax' as const,
      ...(this.config.cookieDomain ? { domain: this.config.cookieDomain } : {}),
      maxAge: Math.max(0, Math.floor((expiresAt - now) / 1000)),
    };
  }

  setSession(reply: FastifyReply, token: string, expiresAt: number, now: number): void {
    reply.setCookie(this.names.session, token, this.base(true, expiresAt, now));
    this.clear(reply, this.names.pending);
  }
  setPending(reply: FastifyReply, token: string, expiresAt: number, now: number): void {
    reply.setCookie(this.names.pending, token, this.base(true, expiresAt, now));
  }
  /** The double-submit CSRF token: readable by the page's own script, which echoes it in X-CSRF-Token. */
  setCsrf(reply: FastifyReply, token: string, expiresAt: number, now: number): void {
    reply.setCookie(this.names.csrf, token, this.base(false, expiresAt, now));
  }
  /** A __Host- cookie is only replaced by one with the same prefix rules, so deletion repeats Secure and Path. */
  private clear(reply: FastifyReply, name: string): void {
    reply.clearCookie(name, {
      path: '/',
      secure: !this.config.insecureCookies,
      httpOnly: true,
      sameSite: 'lax',
      ...(this.config.cookieDomain ? { domain: this.config.cookieDomain } : {}),
    });
  }
  clearAll(reply: FastifyReply): void {
    for (const name of Object.values(this.names)) this.clear(reply, name);
  }

  sessionToken(request: FastifyRequest): string | undefined {
    return request.cookies[this.names.session];
  }
  pendingToken(request: FastifyRequest): string | undefined {
    return request.cookies[this.names.pending];
  }
  csrfToken(request: FastifyRequest): string | undefined {
    return request.cookies[this.names.csrf];
  }
}
