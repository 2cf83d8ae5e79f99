import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest, onResponseHookHandler, RouteOptions } from 'fastify';
import type { Config } from '../config.js';
import { sendError } from '../http/errors.js';
import type { Metrics, ValidationKind } from './metrics.js';

/** The routes whose every answer is a session validation for a reverse proxy. */
const FORWARD_AUTH_ROUTES = new Set(['/auth/request', '/auth/forward']);

/** Who may scrape: a client in the configured networks, or one presenting the configured token. */
export function metricsAccess(config: Config['metrics']): (ip: string, authorization: string | undefined) => boolean {
  const networks = new BlockList();
  for (const network of config.networks) {
    const [address = '', bits] = network.split('/');
    const type = isIPv6(address) ? 'ipv6' : 'ipv4';
    if (bits === undefined) networks.addAddress(address, type);
    else networks.addSubnet(address, Number(bits), type);
  }
  const digest = (text: string) => createHash('sha256').update(text).digest();
  const expected = config.token ? digest(config.token) : null;
  return (ip, authorization) => {
    const bare = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
    if (isIPv4(bare) && networks.check(bare, 'ipv4')) return true;
    if (isIPv6(bare) && networks.check(bare, 'ipv6')) return true;
    if (!expected || !authorization?.startsWith('Bearer ')) return false;
    // Equal-length digests, compared in constant time: the token's length and content stay secret.
    return timingSafeEqual(digest(authorization.slice('Bearer '.length).trim()), expected);
  };
}

/**
 * Measures every route as it is registered (an onRoute hook adds an onResponse hook to it), so the
 * routes themselves know nothing of metrics: forward-auth answers and authenticated API answers
 * are timed as validations, and any 429 counts as a rate-limit hit. Call before registering routes.
 */
export function measureRoutes(app: FastifyInstance, metrics: Metrics): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const url = route.url;
    const kind: ValidationKind | null = FORWARD_AUTH_ROUTES.has(url) ? 'forward_auth' : url.startsWith('/api/') ? 'api' : null;
    const measure: onResponseHookHandler = (request, reply, done) => {
      const status = reply.statusCode;
      if (status === 429) metrics.rateLimitHits.inc({ route: url });
      // request.auth is set only by the session gate: an API answer with it was a validated request.
      if (kind === 'forward_auth' || (kind === 'api' && request.auth !== undefined))
        metrics.observeValidation(kind, status, reply.elapsedTime / 1000);
      done();
    };
    const existing = route.onResponse;
    route.onResponse = existing === undefined ? [measure] : Array.isArray(existing) ? [...existing, measure] : [existing, measure];
  });
}

export function metricsRoute(app: FastifyInstance, metrics: Metrics, config: Config['metrics']): void {
  const allowed = metricsAccess(config);
  app.get('/metrics', { schema: { hide: true } }, async (request: FastifyRequest, reply: FastifyReply) => {
    if (!allowed(request.ip, request.headers.authorization)) {
      return sendError(reply, 403, 'forbidden', 'Metrics are served to the configured networks or with the metrics token only.');
    }
    const { contentType, body } = await metrics.render();
    return reply.type(contentType).send(body);
  });
}
