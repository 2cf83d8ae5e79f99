import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { createGate } from '../../auth/gate.js';
import { answerGate, type GateAnswer, type GateMode } from '../gate-answer.js';
import type { HttpContext } from '../http-context.js';
import { presentedToken } from '../request-auth.js';

/** Writes a gate answer through Fastify (the direct path, gate-fast-path.ts, writes the same one itself). */
export function sendGateAnswer(reply: FastifyReply, answer: GateAnswer): FastifyReply {
  reply.headers(answer.headers).code(answer.status);
  return answer.error ? reply.type('application/json; charset=utf-8').send(answer.error) : reply.send();
}

/**
 * Forward-auth: the proxy asks before each request of a protected app (answers: gate-answer.ts).
 * Over a socket, a plain check is answered by gate-fast-path.ts before Fastify routes it; this
 * route answers the rest (a body, a query string, a trailing slash) and app.inject().
 */
export const forwardAuthRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    const gate = createGate(ctx.deps);
    const answer = async (mode: GateMode, request: FastifyRequest, reply: FastifyReply) =>
      sendGateAnswer(
        reply,
        await answerGate(ctx.deps, gate, mode, {
          method: request.method,
          headers: request.headers,
          ip: request.ip,
          token: presentedToken(request, ctx.cookies),
        }),
      );

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
