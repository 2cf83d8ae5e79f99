import { channel } from 'node:diagnostics_channel';
import type { FastifyInstance, RouteOptions } from 'fastify';

/**
 * What the fuzzer aims at: every route the server registers, read from the server itself rather
 * than from a list in the test, so a route added tomorrow is fuzzed tomorrow. Fastify announces
 * each new instance on the `fastify.initialization` diagnostics channel before any plugin runs; an
 * onRoute hook added there sees every route, and an onRequest hook counts which routes were reached.
 */

/** A JSON Schema node as @fastify/swagger writes it into /openapi.json (inline, no $ref). */
export type Schema = Record<string, any>;

export interface FuzzRoute {
  method: string;
  /** Fastify's pattern: ":id" for a parameter, "*" for the rest. */
  url: string;
  /** From /openapi.json when the route is documented there. */
  documented: boolean;
  body?: Schema;
  /** Query parameters by name. */
  query: Record<string, { schema: Schema; required: boolean }>;
  /** Path parameters by name ("*" for a wildcard). */
  params: Record<string, Schema>;
}

const INIT_CHANNEL = 'fastify.initialization';

export class RouteRecorder {
  /** "METHOD url" of every route registered. */
  readonly routes = new Set<string>();
  /** "METHOD url" → how many requests the router matched to that route (whatever the answer). */
  readonly hits = new Map<string, number>();
  private readonly onInit = (message: unknown) => {
    const { fastify } = message as { fastify: FastifyInstance };
    fastify.addHook('onRoute', (route: RouteOptions) => {
      for (const method of [route.method].flat()) this.routes.add(`${method.toUpperCase()} ${route.url}`);
    });
    fastify.addHook('onRequest', (request, _reply, done) => {
      const url = request.routeOptions.url;
      if (url !== undefined) {
        const key = `${request.method} ${url}`;
        this.hits.set(key, (this.hits.get(key) ?? 0) + 1);
      }
      done();
    });
  };

  /** Records the instances created until stop(): wrap only the harness's start. */
  start(): void {
    channel(INIT_CHANNEL).subscribe(this.onInit);
  }
  stop(): void {
    channel(INIT_CHANNEL).unsubscribe(this.onInit);
  }
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'];
const toFastifyPath = (path: string) => path.replace(/\{([^}]+)\}/g, ':$1');

/**
 * One target per registered (method, url), with the body, query and parameter schemas of its
 * OpenAPI operation when it has one (a HEAD route takes its GET's query). Undocumented routes
 * (pages, forward-auth, metrics, assets) are fuzzed with generic inputs.
 */
export function fuzzTargets(registered: Iterable<string>, openapi: Schema): FuzzRoute[] {
  const operations = new Map<string, Schema>();
  for (const [path, item] of Object.entries(openapi.paths as Record<string, Schema>)) {
    for (const method of HTTP_METHODS) if (item[method]) operations.set(`${method.toUpperCase()} ${toFastifyPath(path)}`, item[method]);
  }
  const targets: FuzzRoute[] = [];
  for (const key of [...registered].sort()) {
    const [method, url] = key.split(' ') as [string, string];
    const op = operations.get(key) ?? (method === 'HEAD' ? operations.get(`GET ${url}`) : undefined);
    const query: FuzzRoute['query'] = {};
    const params: FuzzRoute['params'] = {};
    for (const p of (op?.parameters ?? []) as Schema[]) {
      if (p.in === 'query') query[p.name] = { schema: p.schema ?? {}, required: p.required === true };
      if (p.in === 'path') params[p.name] = p.schema ?? {};
    }
    for (const segment of url.split('/')) {
      if (segment.startsWith(':') && !params[segment.slice(1)]) params[segment.slice(1)] = { type: 'string', maxLength: 64 };
      if (segment.endsWith('*')) params['*'] = { type: 'string', maxLength: 128 };
    }
    const body = op?.requestBody?.content?.['application/json']?.schema as Schema | undefined;
    targets.push({ method, url, documented: op !== undefined, ...(body ? { body } : {}), query, params });
  }
  return targets;
}

/** Every documented operation, as "METHOD url": each must be a registered route. */
export function documentedOperations(openapi: Schema): string[] {
  return Object.entries(openapi.paths as Record<string, Schema>).flatMap(([path, item]) =>
    HTTP_METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${toFastifyPath(path)}`),
  );
}
