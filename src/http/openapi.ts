import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import type { RouteOptions } from 'fastify';
import type { Config } from '../config.js';
import { cookieNames } from './cookies.js';

/** The two ways to present a session: the cookie the pages use, or the same token as a Bearer. */
const SESSION_SECURITY: Array<Record<string, string[]>> = [{ session_cookie: [] }, { bearer: [] }];

/**
 * The preHandlers that let a request through only with a live session (request-auth.ts
 * requireSession, routes/admin/admin-gate.ts): the operations behind them are documented as needing one.
 */
const SESSION_GATES: ReadonlySet<string> = new Set(['sessionGate', 'adminGate']);

function needsSession(route: RouteOptions): boolean {
  const hooks = route.preHandler === undefined ? [] : Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
  return hooks.some((hook) => SESSION_GATES.has((hook as { name?: string }).name ?? ''));
}

/** @fastify/swagger options: /openapi.json is generated from the route schemas. */
export function openApiOptions(config: Config): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'twofold',
        version: '0.1.0',
        description:
          'Two-factor sign-in and sessions. Authenticate with the session cookie, or send the same token as `Authorization: Bearer <token>`. Cookie-authenticated writes need a same-origin `Origin` or `X-CSRF-Token` equal to the twofold_csrf cookie.',
      },
      servers: [{ url: config.publicOrigin }],
      components: {
        securitySchemes: {
          session_cookie: {
            type: 'apiKey',
            in: 'cookie',
            name: cookieNames(config).session,
            description:
              'The session cookie set by sign-in. Writes also need a same-origin Origin header or X-CSRF-Token equal to the twofold_csrf cookie.',
          },
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'The session token (the session cookie’s value) as `Authorization: Bearer <token>`; no CSRF token needed.',
          },
        },
      },
    },
    // Shared schemas appear under components.schemas by their $id ("Error"), not as "def-0".
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transform: ({ schema, url, route }) => ({
      schema: schema && needsSession(route) ? { ...schema, security: SESSION_SECURITY } : schema,
      url,
    }),
  };
}
