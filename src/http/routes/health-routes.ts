import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { HttpContext } from '../http-context.js';
import { sendError } from '../errors.js';

export const healthRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    app.get(
      '/healthz',
      {
        schema: {
          tags: ['health'],
          summary: 'Liveness: the process answers',
          response: { 200: Type.Object({ status: Type.Literal('ok') }) },
        },
      },
      async () => ({ status: 'ok' as const }),
    );
    app.get(
      '/readyz',
      {
        schema: {
          tags: ['health'],
          summary: 'Readiness: the store answers',
          response: { 200: Type.Object({ status: Type.Literal('ready') }) },
        },
      },
      async (request, reply) => {
        try {
          await ctx.deps.store.ping();
          return { status: 'ready' as const };
        } catch (err) {
          request.log.warn({ err }, 'store not ready');
          return sendError(reply, 503, 'unavailable', 'The store does not answer.');
        }
      },
    );
  };
