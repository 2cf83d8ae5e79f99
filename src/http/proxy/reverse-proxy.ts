import cookie from '@fastify/cookie';
import { proxyTrust } from '../../context/trusted-proxies.js';
import { deviceCookieName } from '../../context/device-cookie.js';
import httpProxy from '@fastify/http-proxy';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import type { AuthDeps } from '../../auth/deps.js';
import { createGate, type GateResult } from '../../auth/gate.js';
import { Cookies } from '../cookies.js';
import { sendError } from '../errors.js';
import { clientErrorHandler } from '../client-errors.js';
import { targetUrl } from '../forwarded-request.js';
import { PROXIED_METHODS, proxyFrameworkErrors, registerProxyErrors } from './proxy-errors.js';
import { identityHeaders, portalUrlFor } from '../gate-answer.js';
import { presentedToken } from '../request-auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    gate?: GateResult;
  }
}

/**
 * Request headers for the upstream: every client-sent Remote-* header is dropped (so identity
 * cannot be forged; Remote_* too, which CGI-style apps read as the same HTTP_REMOTE_* variable),
 * twofold's own cookies are removed, and so is an Authorization: Bearer that carried the twofold
 * session (the app never sees the session secret); the identity of an allowed session is added.
 */
export function upstreamHeaders(headers: IncomingHttpHeaders, request: FastifyRequest, cookieNames: string[]): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !/^remote[-_]/i.test(name)) out[name] = value;
  // The gate reads a Bearer before the cookie, so an identity alongside a Bearer came from that token.
  if (request.gate?.identity && typeof out.authorization === 'string' && out.authorization.startsWith('Bearer ')) delete out.authorization;
  if (typeof out.cookie === 'string') {
    const kept = out.cookie
      .split(';')
      .filter((pair) => !cookieNames.includes(pair.split('=')[0]!.trim()))
      .join(';')
      .trim();
    if (kept) out.cookie = kept;
    else delete out.cookie;
  }
  const identity = request.gate?.identity;
  if (request.gate?.outcome.kind === 'allow' && identity) Object.assign(out, identityHeaders(identity.user, identity.session));
  return out;
}

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/**
 * Response headers for the client, without the upstream connection's hop-by-hop headers (and those
 * its Connection header names): copied through, the app's "Connection: keep-alive" overrode a
 * client's "Connection: close" and held the client's socket open until the keep-alive timeout.
 */
export function clientHeaders(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const named =
    typeof headers.connection === 'string'
      ? headers.connection
          .toLowerCase()
          .split(',')
          .map((name) => name.trim())
      : [];
  const out: IncomingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (!HOP_BY_HOP.has(name) && !named.includes(name)) out[name] = value;
  return out;
}

/**
 * The built-in reverse proxy: one protected app behind the gate with no other proxy. It listens on
 * its own address; bodies stream through, WebSocket upgrades pass after the same gate check.
 */
export async function buildReverseProxy(deps: AuthDeps, options: { logger?: boolean } = {}): Promise<FastifyInstance> {
  const proxy = deps.config.proxy;
  if (!proxy) throw new Error('proxy.upstream is not configured');
  const app = Fastify({
    // Request lines are logged at info; the proxy logs warnings and errors only, as it carries every request of the app.
    logger: options.logger === false ? false : { level: deps.config.logLevel === 'silent' ? 'silent' : 'warn' },
    trustProxy: proxyTrust(deps.config.trustedProxies),
    frameworkErrors: proxyFrameworkErrors,
    // Requests Node's HTTP parser refuses: a JSON error and a closed connection, as on twofold's own port.
    clientErrorHandler: clientErrorHandler([]),
  });
  registerProxyErrors(app);
  const cookies = new Cookies(deps.config);
  // The device cookie (src/context/device-cookie.ts) is twofold's too: the app never sees it.
  const ownCookies = [...Object.values(cookies.names), deviceCookieName(deps.config.insecureCookies)];
  const gate = createGate(deps);
  await app.register(cookie);

  async function checkGate(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    // Rules judge the normalized path (dots resolved, "%61" read as "a"); an ambiguous one is refused, never passed on.
    const target = targetUrl(proxy!.publicUrl, request.url);
    if (!target) return sendError(reply, 400, 'bad_request', 'The request path is malformed or ambiguous.');
    const result = await gate.check(presentedToken(request, cookies), {
      host: request.hostname.replace(/:\d+$/, ''),
      path: target.pathname,
      method: request.method,
      ip: request.ip,
      userAgent: (request.headers['user-agent'] ?? '').slice(0, 512),
    });
    request.gate = result;
    const { outcome } = result;
    if (outcome.kind === 'allow') return undefined;
    if (outcome.kind === 'deny') return sendError(reply, 403, 'forbidden', 'Access to this resource is denied.');
    const location = portalUrlFor(deps.config.publicUrl, outcome.kind === 'sign_in' ? '/login' : '/step-up', target.toString());
    if (request.method === 'GET' || request.method === 'HEAD') return reply.redirect(location, 302);
    return sendError(reply, 401, outcome.kind === 'sign_in' ? 'unauthenticated' : 'step_up_required', 'Sign in first.', { location });
  }

  await app.register(httpProxy, {
    upstream: proxy.upstream.toString().replace(/\/$/, ''),
    httpMethods: PROXIED_METHODS,
    websocket: true,
    preHandler: checkGate,
    replyOptions: {
      rewriteRequestHeaders: (request, headers) => upstreamHeaders(headers, request as unknown as FastifyRequest, ownCookies),
      rewriteHeaders: (headers) => clientHeaders(headers),
    },
    // The WebSocket client takes a header rewrite the plugin's types do not declare; by default it forwards only the cookie.
    wsClientOptions: {
      rewriteRequestHeaders: (headers: IncomingHttpHeaders, request: FastifyRequest) =>
        upstreamHeaders({ ...headers, cookie: request.headers.cookie }, request, ownCookies),
    } as Record<string, unknown>,
  });
  return app;
}
