import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthDeps } from '../auth/deps.js';
import {
  DEVICE_COOKIE_MAX_AGE_S,
  deviceCookieName,
  deviceCookieValue,
  newDeviceCookie,
  parseDeviceCookie,
  type DeviceCookie,
} from '../context/device-cookie.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The browser's device cookie on sign-in requests (src/context/device-cookie.ts). */
    device?: DeviceCookie;
  }
}

/** The sign-in steps, API and pages: where a browser is recognised and, once, given its device cookie. */
const SIGN_IN_PATHS = new Set(['/login', '/login/second-factor', '/api/v1/login', '/api/v1/login/second-factor']);

/**
 * Reads the device cookie on sign-in requests (a new value for a browser without one) and sends it
 * when the sign-in use case says so: after a complete sign-in, for a new cookie or a rotated secret.
 */
export function deviceCookieHook(app: FastifyInstance, deps: AuthDeps): void {
  const name = deviceCookieName(deps.config.insecureCookies);
  // The server loads the geo databases and the risk history before it takes its first request.
  app.addHook('onReady', async () => {
    await deps.risk?.ready();
  });
  app.addHook('onRequest', (request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    if (request.method === 'POST' && SIGN_IN_PATHS.has(request.url.split('?')[0]!)) {
      request.device = parseDeviceCookie(request.cookies[name]) ?? newDeviceCookie(deps.random);
    }
    done();
  });
  // Appended as a header, not reply.setCookie: @fastify/cookie has already written its cookies by now.
  app.addHook('onSend', (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (err: null, payload: unknown) => void) => {
    // Below 400: the pages answer a completed sign-in with a 303 redirect, which must carry it too.
    if (request.device?.send && reply.statusCode < 400) {
      reply.header(
        'set-cookie',
        app.serializeCookie(name, deviceCookieValue(request.device), {
          path: '/',
          httpOnly: true,
          secure: !deps.config.insecureCookies,
          sameSite: 'lax',
          maxAge: DEVICE_COOKIE_MAX_AGE_S,
        }),
      );
    }
    done(null, payload);
  });
}
