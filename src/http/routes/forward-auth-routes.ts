import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { createGate, groupsOf } from '../../auth/gate.js';
import type { GateOutcome } from '../../core/access/gate.js';
import type { Session } from '../../core/session/session.js';
import type { User } from '../../store/store.js';
import { sendError } from '../errors.js';
import { forwardedRequest } from '../forwarded-request.js';
import type { HttpContext } from '../http-context.js';
import { presentedToken } from '../request-auth.js';

/** Header values reach upstream apps: no control characters, bounded length. */
const headerValue = (value: string): string => value.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 1024);

/** Identity headers for the upstream app (it must only trust them from the proxy, which strips client copies). */
export function identityHeaders(user: User, session: Session): Record<string, string> {
  return {
    'Remote-User': user.username,
    'Remote-Email': headerValue(user.email ?? ''),
    'Remote-Name': headerValue(user.displayName),
    'Remote-Groups': groupsOf(user).join(','),
    'Remote-Session': session.id,
    'Remote-AAL': String(session.aal),
    'Remote-Auth-Time': String(Math.floor(session.authTime / 1000)),
  };
}

/** Where the portal sends a user who must sign in or step up, with the way back. */
export function portalUrlFor(portal: URL, page: '/login' | '/step-up', returnTo: string): string {
  const url = new URL(page, portal);
  url.searchParams.set('return_to', returnTo);
  return url.toString();
}

/**
 * Forward-auth: the proxy asks before each request of a protected app.
 * /auth/request (nginx auth_request) answers 200 / 401 / 403 only, since nginx turns 401 into the
 * redirect itself; /auth/forward (Caddy, Traefik) answers 200, a 302 to the portal, or 403.
 */
export const forwardAuthRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    const gate = createGate(ctx.deps);

    const answer = async (mode: 'request' | 'forward', request: Parameters<typeof presentedToken>[0], reply: FastifyReply) => {
      const original = forwardedRequest(request);
      if (!original) {
        return sendError(reply, 400, 'bad_forwarded_request', 'The proxy sent no readable original URL (X-Original-URL or X-Forwarded-Proto/Host/Uri).');
      }
      const { url, method } = original;
      const result = await gate.check(presentedToken(request, ctx.cookies), { host: url.hostname, path: url.pathname, method, ip: request.ip });
      const outcome: GateOutcome = result.outcome;
      switch (outcome.kind) {
        case 'allow':
          if (result.identity) reply.headers(identityHeaders(result.identity.user, result.identity.session));
          return reply.code(200).send();
        case 'deny':
          return sendError(reply, 403, 'forbidden', 'Access to this resource is denied.');
        case 'sign_in':
        case 'step_up': {
          const page = outcome.kind === 'sign_in' ? '/login' : '/step-up';
          const location = portalUrlFor(ctx.deps.config.publicUrl, page, url.toString());
          if (mode === 'forward' && (method === 'GET' || method === 'HEAD')) return reply.redirect(location, 302);
          reply.header('X-Twofold-Location', location);
          return outcome.kind === 'sign_in'
            ? sendError(reply, 401, 'unauthenticated', 'Sign in first.', { location })
            : sendError(reply, 401, 'step_up_required', 'A fresh second factor is required.', { location, max_auth_age: outcome.maxAuthAgeMs === undefined ? null : Math.floor(outcome.maxAuthAgeMs / 1000) });
        }
      }
    };

    // nginx's auth subrequest keeps the original method, so every method is answered. Per-request
    // logging is off: this runs on every request of every protected app. It changes nothing, so the
    // CSRF guard does not apply (config.gate).
    const common = {
      method: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      exposeHeadRoute: false,
      logLevel: 'warn' as const,
      config: { gate: true },
      schema: { hide: true },
    };
    app.route({ ...common, url: '/auth/request', handler: (request, reply) => answer('request', request, reply) });
    app.route({ ...common, url: '/auth/forward', handler: (request, reply) => answer('forward', request, reply) });
  };
