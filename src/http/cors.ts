import cors from '@fastify/cors';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';

/**
 * The token API a browser app on another origin may call with a Bearer token: sign in for tokens,
 * refresh, read and step up its session, list and end sessions, sign out, fetch the JWKS. Factor,
 * account and admin routes stay same-origin: they are managed on twofold's own pages.
 */
const TOKEN_API_PATHS = new Set([
  '/api/v1/login',
  '/api/v1/login/second-factor',
  '/api/v1/token',
  '/api/v1/session',
  '/api/v1/session/step-up',
  '/api/v1/sessions',
  '/api/v1/logout',
  '/.well-known/jwks.json',
]);

export const isTokenApiPath = (url: string): boolean => {
  const path = url.split('?', 1)[0]!.replace(/\/$/, '');
  return TOKEN_API_PATHS.has(path) || /^\/api\/v1\/sessions\/[^/]+$/.test(path);
};

/** The allowed origin a request comes from, or undefined (no Origin, another origin, or CORS off). */
export function allowedCrossOrigin(config: Config['cors'], origin: string | undefined): string | undefined {
  return origin !== undefined && config.allowedOrigins.includes(origin) ? origin : undefined;
}

/**
 * CORS for the token API (Fetch standard, "CORS protocol"), only for cors.allowed_origins. No
 * Access-Control-Allow-Credentials: a cross-origin page gets no use of twofold's cookies, only of the
 * Bearer tokens it holds (and csrf.ts refuses a cross-origin write that carries our cookies anyway).
 */
export async function registerCors(app: FastifyInstance, config: Config['cors']): Promise<void> {
  if (config.allowedOrigins.length === 0) return;
  await app.register(cors, {
    delegator: (request: FastifyRequest, callback) => {
      const allowed = isTokenApiPath(request.url) ? allowedCrossOrigin(config, request.headers.origin) : undefined;
      callback(null, {
        origin: allowed ?? false,
        methods: ['GET', 'POST', 'DELETE'],
        allowedHeaders: ['Authorization', 'Content-Type', 'X-Request-Id'],
        exposedHeaders: ['X-Request-Id', 'WWW-Authenticate'],
        credentials: false,
        maxAge: Math.floor(config.maxAgeMs / 1000),
        // A preflight without Access-Control-Request-Method is answered like any other, not with a text/plain 400.
        strictPreflight: false,
      });
    },
  });
}
