import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import swagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import type { AuthDeps } from '../auth/deps.js';
import { Cookies } from './cookies.js';
import { csrfGuard } from './csrf.js';
import { registerErrorHandling } from './errors.js';
import type { HttpContext } from './http-context.js';
import { pageRoutes, renderErrorPage } from './pages/index.js';
import { accountRoutes } from './routes/account-routes.js';
import { factorRoutes } from './routes/factor-routes.js';
import { forwardAuthRoutes } from './routes/forward-auth-routes.js';
import { healthRoutes } from './routes/health-routes.js';
import { loginRoutes } from './routes/login-routes.js';
import { sessionRoutes } from './routes/session-routes.js';
import { setupRoutes } from './routes/setup-routes.js';
import { ErrorSchema } from './schemas.js';

/** Pages may load only our own script, style and images; nobody may frame them; no referrer leaves. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export interface ServerOptions {
  /** Pino logger options, or false to stay quiet (tests). */
  logger?: boolean | Record<string, unknown>;
}

export async function buildServer(deps: AuthDeps, options: ServerOptions = {}): Promise<FastifyInstance> {
  const { config } = deps;
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
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const ctx: HttpContext = { deps, cookies: new Cookies(config) };

  await app.register(cookie);
  await app.register(formbody, { bodyLimit: config.bodyLimit });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'twofold',
        version: '0.1.0',
        description:
          'Two-factor sign-in and sessions. Authenticate with the session cookie, or send the same token as `Authorization: Bearer <token>`. Cookie-authenticated writes need a same-origin `Origin` or `X-CSRF-Token` equal to the twofold_csrf cookie.',
      },
      servers: [{ url: config.publicOrigin }],
    },
  });
  app.addSchema(ErrorSchema);

  registerErrorHandling(app, renderErrorPage);
  app.addHook('preValidation', csrfGuard(ctx.cookies, config.publicOrigin));
  // Every response, forward-auth answers included, so this runs on every request: a callback hook
  // (an async one costs a promise each time) and names already in lower case (Fastify lower-cases
  // every name it is given, allocating a copy otherwise; the bytes sent are the same).
  const securityHeaders: Array<[string, string]> = [
    ['cache-control', 'no-store'],
    ['x-content-type-options', 'nosniff'],
    ['referrer-policy', 'no-referrer'],
    ['x-frame-options', 'DENY'],
    ['content-security-policy', CSP],
    ['cross-origin-opener-policy', 'same-origin'],
  ];
  if (config.publicUrl.protocol === 'https:') securityHeaders.push(['strict-transport-security', 'max-age=31536000; includeSubDomains']);
  app.addHook('onSend', (_request, reply, payload, done) => {
    for (const [name, value] of securityHeaders) reply.header(name, value);
    done(null, payload);
  });

  await app.register(healthRoutes(ctx));
  await app.register(setupRoutes(ctx));
  await app.register(loginRoutes(ctx));
  await app.register(sessionRoutes(ctx));
  await app.register(factorRoutes(ctx));
  await app.register(accountRoutes(ctx));
  await app.register(forwardAuthRoutes(ctx));
  await app.register(pageRoutes(ctx));

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
