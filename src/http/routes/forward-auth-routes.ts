import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { createGate, groupsOf } from '../../auth/gate.js';
import { stepUpMethodsOf } from '../../auth/sensitive-actions.js';
import type { GateOutcome } from '../../core/access/gate.js';
import { MAX_RETURN_TO_LENGTH } from '../../core/access/return-to.js';
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

/**
 * identityHeaders() as the forward-auth answer sends them, computed once per session rather than on
 * every check: a cached session and its user are the same objects from one check to the next, and
 * neither changes in place what these headers show (a touch moves only lastSeenAt and
 * idleExpiresAt; a changed user comes back as a new object). Names are in lower case, as Fastify
 * sends them anyway, so that reply.headers() need not lower-case a copy of each.
 */
const answeredIdentity = new WeakMap<Session, { user: User; headers: Record<string, string> }>();
function replyIdentityHeaders(user: User, session: Session): Record<string, string> {
  const known = answeredIdentity.get(session);
  if (known?.user === user) return known.headers;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(identityHeaders(user, session))) headers[name.toLowerCase()] = value;
  Object.freeze(headers);
  answeredIdentity.set(session, { user, headers });
  return headers;
}

/**
 * The identity headers, all empty: the answer when a request is allowed without a session (a bypass
 * rule). A proxy copying them then sets them empty: Caddy 2.6's copy_headers would otherwise write
 * its own placeholder text ("{http.reverse_proxy.header.Remote-User}") for a header that is missing.
 */
export const NO_IDENTITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Remote-User': '',
  'Remote-Email': '',
  'Remote-Name': '',
  'Remote-Groups': '',
  'Remote-Session': '',
  'Remote-AAL': '',
  'Remote-Auth-Time': '',
});

/**
 * Where the portal sends a user who must sign in or step up, with the way back. A way back longer
 * than the portal accepts is left out: it would be refused anyway, and it keeps the Location and
 * X-Twofold-Location headers within what proxies buffer for a response head (nginx: 4 KB by default).
 */
export function portalUrlFor(portal: URL, page: '/login' | '/step-up', returnTo: string): string {
  const url = new URL(page, portal);
  if (returnTo.length <= MAX_RETURN_TO_LENGTH) url.searchParams.set('return_to', returnTo);
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
      const original = forwardedRequest(request, mode === 'request' ? 'original' : 'forwarded');
      if (!original) {
        const expected = mode === 'request' ? 'X-Original-URL' : 'X-Forwarded-Proto/Host/Uri';
        return sendError(reply, 400, 'bad_forwarded_request', `The proxy sent no readable original URL (${expected}).`);
      }
      const { url, method } = original;
      const result = await gate.check(presentedToken(request, ctx.cookies), {
        host: url.hostname,
        path: url.pathname,
        method,
        ip: request.ip,
        userAgent: (request.headers['user-agent'] ?? '').slice(0, 512),
      });
      const outcome: GateOutcome = result.outcome;
      switch (outcome.kind) {
        case 'allow':
          reply.headers(result.identity ? replyIdentityHeaders(result.identity.user, result.identity.session) : NO_IDENTITY_HEADERS);
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
            : sendError(reply, 401, 'step_up_required', 'A fresh second factor is required.', {
                location,
                max_auth_age: outcome.maxAuthAgeMs === undefined ? null : Math.floor(outcome.maxAuthAgeMs / 1000),
                // The same machine-readable shape as the API's step_up_required (auth/sensitive-actions.ts).
                step_up: {
                  reason: outcome.reason === 'second_factor' ? 'aal' : outcome.reason === 'context_changed' ? 'context_changed' : 'stale',
                  methods: result.identity ? await stepUpMethodsOf(ctx.deps, result.identity.user) : [],
                  max_age_s: outcome.maxAuthAgeMs === undefined ? null : Math.floor(outcome.maxAuthAgeMs / 1000),
                },
              });
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
