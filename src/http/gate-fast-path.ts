import { createRequire } from 'node:module';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createGate } from '../auth/gate.js';
import type { ProxyTrust } from '../context/trusted-proxies.js';
import type { Metrics } from '../metrics/metrics.js';
import { answerGate, type GateAnswer, type GateMode } from './gate-answer.js';
import type { HttpContext } from './http-context.js';
import { genReqId } from './request-id.js';
import { turnWrites } from './turn-writes.js';

/** Fastify's own way from socket and X-Forwarded-For to request.ip (proxy-addr), so both paths see the same client. */
const proxyAddr = createRequire(import.meta.url)('proxy-addr') as (request: IncomingMessage, trust: ProxyTrust) => string;

export interface GateFastPath {
  /** Answers a plain check and returns true, or returns false and leaves the request to Fastify. */
  handle(request: IncomingMessage, response: ServerResponse, fallback: () => void): boolean;
  /** Checks taken so far (tests, and a sign that proxies reach this path). */
  readonly handled: number;
  /** From now on everything goes to Fastify, which answers 503 while closing. */
  close(): void;
}

export interface GateFastPathOptions {
  /** Fastify's trustProxy: false or the trusted_proxies predicate. */
  trust: ProxyTrust | false;
  /** The headers every non-200 answer carries (security-headers.ts). */
  securityHeaders: ReadonlyArray<readonly [string, string]>;
  metrics: Metrics;
  /** Reads a Cookie header exactly as @fastify/cookie does (app.parseCookie). */
  parseCookie: (header: string) => Record<string, string | undefined>;
}

/** A check the direct path takes: the exact endpoint path, no body. Anything else goes through Fastify. */
function modeOf(request: IncomingMessage): GateMode | undefined {
  const mode = request.url === '/auth/request' ? 'request' : request.url === '/auth/forward' ? 'forward' : undefined;
  if (mode === undefined) return undefined;
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] === undefined && (length === undefined || length === '0') ? mode : undefined;
}

/**
 * Forward-auth checks answered straight from node:http, ahead of Fastify's router, hooks and reply
 * machinery: every request of every protected app passes here, and the framework cost more than the
 * check itself (bench/README.md). The answer is the one the Fastify route gives (both write down
 * answerGate()), with what Fastify's hooks add to it here too: the request id, the security headers
 * (Cache-Control only on a 200, which goes to the proxy, never to a browser) and the validation
 * metric. Whatever is unusual (another path or a query, a body, an error) is handed to Fastify,
 * which answers it as before; so is everything once the server is closing (Fastify's 503).
 *
 * Returns whether it took the request.
 */
export function gateFastPath(ctx: HttpContext, options: GateFastPathOptions): GateFastPath {
  const gate = createGate(ctx.deps);
  const sessionCookie = ctx.cookies.names.session;
  let closing = false;
  let handled = 0;

  // The head as a flat [name, value, ...] list: node:http takes it as it is, where an object built
  // by spreading (the identity headers plus a few) cost about 5 us more per answer in V8. One list
  // serves every answer, filled in place: writeHead reads it at once into the head's text and keeps
  // nothing, and a new list grown by 20 pushes was about 500 bytes of garbage per answer.
  const head: string[] = [];
  const write = (response: ServerResponse, method: string, answer: GateAnswer, requestId: string): void => {
    const body = answer.error ? JSON.stringify(answer.error) : '';
    let n = 0;
    for (const name in answer.headers) {
      head[n++] = name;
      head[n++] = answer.headers[name]!;
    }
    if (answer.status === 200) {
      head[n++] = 'cache-control';
      head[n++] = 'no-store';
    } else {
      for (const [name, value] of options.securityHeaders) {
        head[n++] = name;
        head[n++] = value;
      }
      if (body) {
        head[n++] = 'content-type';
        head[n++] = 'application/json; charset=utf-8';
      }
    }
    head[n++] = 'x-request-id';
    head[n++] = requestId;
    // As Fastify: an empty HEAD answer carries no length.
    if (body || method !== 'HEAD') {
      head[n++] = 'content-length';
      head[n++] = String(Buffer.byteLength(body));
    }
    head.length = n;
    response.writeHead(answer.status, head).end(body);
  };

  // The answers of one poll phase go out together, after it (turn-writes.ts says why).
  const later = turnWrites();

  return {
    handle(request, response, fallback) {
      const mode = closing ? undefined : modeOf(request);
      if (mode === undefined) return false;
      handled++;
      const started = performance.now();
      const authorization = request.headers.authorization;
      const cookie = request.headers.cookie;
      const token = authorization?.startsWith('Bearer ')
        ? authorization.slice('Bearer '.length).trim()
        : cookie
          ? options.parseCookie(cookie)[sessionCookie]
          : undefined;
      const ip = options.trust ? proxyAddr(request, options.trust) : (request.socket.remoteAddress ?? '');
      const respond = (answer: GateAnswer): void =>
        later(() => {
          try {
            write(response, request.method ?? 'GET', answer, genReqId(request));
          } catch {
            // writeHead refused the head (it sends nothing until end): Fastify answers instead.
            if (!response.headersSent) return fallback();
            response.destroy();
            return;
          }
          options.metrics.observeValidation('forward_auth', answer.status, (performance.now() - started) / 1000);
        });
      let answer: GateAnswer | Promise<GateAnswer>;
      try {
        // Synchronous for a cached session (gate-answer.ts): no promise on the way of most checks.
        answer = answerGate(ctx.deps, gate, mode, { method: request.method ?? 'GET', headers: request.headers, ip, token });
      } catch {
        // Nothing was written yet: Fastify answers it again, and maps the error as it does for any route.
        fallback();
        return true;
      }
      if (answer instanceof Promise) answer.then(respond, () => fallback());
      else respond(answer);
      return true;
    },
    get handled() {
      return handled;
    },
    close() {
      closing = true;
    },
  };
}
