import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { createServer as createHttpServer } from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import type { AuthDeps } from '../auth/deps.js';
import { Cookies } from './cookies.js';
import { gateFastPath, type GateFastPath } from './gate-fast-path.js';
import { clientErrorHandler } from './client-errors.js';
import { registerCors } from './cors.js';
import { csrfGuard } from './csrf.js';
import { proxyTrust } from '../context/trusted-proxies.js';
import { frameworkErrorHandler, registerErrorHandling } from './errors.js';
import type { HttpContext } from './http-context.js';
import { acceptEmptyJsonBodies } from './json-body.js';
import { pageRoutes, renderErrorPage } from './pages/index.js';
import { adminPageRoutes } from './pages/admin/index.js';
import { measureRoutes, metricsRoute } from '../metrics/metrics-http.js';
import { Metrics } from '../metrics/metrics.js';
import { echoRequestId, genReqId } from './request-id.js';
import { adminRoutes } from './routes/admin/index.js';
import { webhookDelivery } from '../webhooks/delivery-worker.js';
import { housekeeping } from '../housekeeping/housekeeping.js';
import { accountRoutes } from './routes/account-routes.js';
import { deviceRoutes } from './routes/device-routes.js';
import { deviceCookieHook } from './device-cookie-hook.js';
import { factorRoutes } from './routes/factor-routes.js';
import { forwardAuthRoutes } from './routes/forward-auth-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { loginRoutes } from './routes/login-routes.js';
import { sessionRoutes } from './routes/session-routes.js';
import { setupRoutes } from './routes/setup-routes.js';
import { tokenRoutes } from './routes/token-routes.js';
import { webauthnRoutes } from './routes/webauthn-routes.js';
import { ErrorSchema } from './schemas.js';
import { openApiOptions } from './openapi.js';
import { securityHeaders } from './security-headers.js';
import { holdTickObjectShape } from './tick-object-shape.js';
import { buildValidator } from './validation.js';

export interface ServerOptions {
  /** Pino logger options, or false to stay quiet (tests). */
  logger?: boolean | Record<string, unknown>;
}

export async function buildServer(deps: AuthDeps, options: ServerOptions = {}): Promise<FastifyInstance> {
  const { config } = deps;
  // twofold serve did this first thing (cli/hold-tick-shape.ts); a process that builds a server
  // otherwise (tests, the bench) still does it before Fastify starts.
  holdTickObjectShape();
  const headers = securityHeaders(config);
  // Forward-auth checks are answered ahead of Fastify (gate-fast-path.ts); it exists once the routes do.
  let fastPath: GateFastPath | undefined;
  const app = Fastify({
    logger:
      options.logger === false
        ? false
        : {
            level: config.logLevel,
            // Secrets never reach the log: no cookies, no Authorization, no query strings (setup links carry a token).
            redact: ['req.headers.cookie', 'req.headers.authorization', 'res.headers["set-cookie"]'],
            serializers: {
              req: (req: { method: string; url: string; ip?: string; id: string }) => ({
                id: req.id,
                method: req.method,
                path: req.url.split('?')[0],
                ip: req.ip,
              }),
            },
            ...(typeof options.logger === 'object' ? options.logger : {}),
          },
    bodyLimit: config.bodyLimit,
    genReqId,
    trustProxy: proxyTrust(config.trustedProxies),
    serverFactory: (handler, options) => {
      // headers_timeout bounds how long a request's head may take to arrive (slowloris, or a client
      // sending blank lines); Node checks open connections against it every connectionsCheckingInterval.
      const headersTimeout = config.headersTimeoutMs;
      const connectionsCheckingInterval = Math.max(250, Math.min(30_000, Math.floor(headersTimeout / 4)));
      const server = createHttpServer({ connectionsCheckingInterval }, (request, response) => {
        if (!fastPath?.handle(request, response, () => handler(request, response))) handler(request, response);
      });
      // What Fastify sets on a server it makes itself (fastify/lib/server.js), the options already defaulted.
      const { keepAliveTimeout, requestTimeout, connectionTimeout, maxRequestsPerSocket } = options as Record<string, number | undefined>;
      server.keepAliveTimeout = keepAliveTimeout ?? 72_000;
      // 0 (Fastify's default): a body streamed to the protected app through the built-in proxy may take long.
      server.requestTimeout = requestTimeout ?? 0;
      server.headersTimeout = headersTimeout;
      server.setTimeout(connectionTimeout ?? 0);
      if (maxRequestsPerSocket) server.maxRequestsPerSocket = maxRequestsPerSocket;
      return server;
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    // URLs the router itself refuses (a parameter over maxParamLength, broken percent-encoding)
    // bypass the error handler and hooks: answer them in our error shape, with our headers.
    frameworkErrors: frameworkErrorHandler(headers, renderErrorPage),
    // ...and requests Node's HTTP parser refuses (431, 400, 408) never reach the router at all.
    clientErrorHandler: clientErrorHandler(headers),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    // ...but bodies are not coerced (validation.ts).
    schemaController: { compilersFactory: { buildValidator } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const ctx: HttpContext = { deps, cookies: new Cookies(config) };

  acceptEmptyJsonBodies(app);
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: config.bodyLimit });
  await app.register(swagger, openApiOptions(config));
  app.addSchema(ErrorSchema);

  registerErrorHandling(app, renderErrorPage);
  deviceCookieHook(app, deps);
  await registerCors(app, config.cors);
  app.addHook('preValidation', csrfGuard(ctx.cookies, config.publicOrigin, config.cors));
  app.addHook('onRequest', echoRequestId);
  const metrics = deps.metrics ?? new Metrics();
  measureRoutes(app, metrics);
  metricsRoute(app, metrics, config.metrics);
  // Every response, forward-auth answers included, so this runs on every request: a callback hook
  // (an async one costs a promise each time).
  // A forward-auth 200 goes to the proxy, never to a browser (nginx drops it, Caddy and Traefik copy
  // the identity headers only), so the page headers would be bytes on every gated request for nobody.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (reply.statusCode === 200 && (request.routeOptions.config as { gate?: boolean } | undefined)?.gate)
      reply.header('cache-control', 'no-store');
    else for (const [name, value] of headers) reply.header(name, value);
    done(null, payload);
  });

  await app.register(healthRoutes(ctx));
  await app.register(setupRoutes(ctx));
  await app.register(loginRoutes(ctx));
  await app.register(sessionRoutes(ctx));
  await app.register(tokenRoutes(ctx));
  await app.register(factorRoutes(ctx));
  await app.register(webauthnRoutes(ctx));
  await app.register(accountRoutes(ctx));
  await app.register(deviceRoutes(ctx));
  await app.register(forwardAuthRoutes(ctx));
  await app.register(pageRoutes(ctx));
  await app.register(adminRoutes(ctx));
  // Sends queued webhook deliveries while the server runs (docs/webhooks.md).
  webhookDelivery(app, deps);
  housekeeping(app, deps);
  await app.register(adminPageRoutes(ctx));

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Per-request work added by hooks above must be mirrored in gate-fast-path.ts for gate checks.
  fastPath = gateFastPath(ctx, {
    trust: proxyTrust(config.trustedProxies),
    securityHeaders: headers,
    metrics,
    parseCookie: (header) => app.parseCookie(header),
  });
  app.decorate('gateFastPath', fastPath);
  app.addHook('preClose', (done) => {
    fastPath?.close();
    done();
  });
  return app;
}
