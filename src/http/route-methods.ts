import type { FastifyInstance } from 'fastify';

/**
 * Which methods each route path answers, so that a known path asked with another method gets
 * 405 with an Allow header (RFC 9110 §15.5.6) rather than a 404 that says the path does not exist.
 * Paths are Fastify's patterns: ":param" is one segment, "*" the rest.
 */
export class RouteMethods {
  private readonly routes = new Map<string, { pattern: RegExp; methods: Set<string> }>();

  /** Registers itself as an onRoute hook: every route added afterwards, in any plugin, is known. */
  static collect(app: FastifyInstance): RouteMethods {
    const known = new RouteMethods();
    app.addHook('onRoute', (route) => known.add(route.url, route.method));
    return known;
  }

  add(url: string, method: string | string[]): void {
    let entry = this.routes.get(url);
    if (!entry) {
      entry = { pattern: toPattern(url), methods: new Set() };
      this.routes.set(url, entry);
    }
    for (const m of Array.isArray(method) ? method : [method]) entry.methods.add(m.toUpperCase());
    if (entry.methods.has('GET')) entry.methods.add('HEAD');
  }

  /** The methods some route answers at this path (a request path, without the query), sorted. */
  allowed(path: string): string[] {
    const trimmed = path.length > 1 ? path.replace(/\/+$/, '') : path;
    const methods = new Set<string>();
    for (const { pattern, methods: answered } of this.routes.values()) {
      if (pattern.test(trimmed)) for (const m of answered) methods.add(m);
    }
    return [...methods].sort();
  }
}

function toPattern(url: string): RegExp {
  const trimmed = url.length > 1 ? url.replace(/\/+$/, '') : url;
  const source = trimmed
    .split('/')
    .map((segment) => {
      if (segment === '*') return '.*';
      if (segment.startsWith(':')) return '[^/]+';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${source}$`);
}
