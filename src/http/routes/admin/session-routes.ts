import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { revokeAnySession, searchSessions } from '../../../admin/admin-sessions.js';
import type { RiskBand } from '../../../core/risk/policy.js';
import type { HttpContext } from '../../http-context.js';
import { requestContext } from '../../request-auth.js';
import { errors } from '../../schemas.js';
import { requireAdmin } from './admin-gate.js';
import { AdminSessionSchema } from './admin-schemas.js';
import { adminSessionView } from './admin-views.js';

export const adminSessionRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    const preHandler = requireAdmin(ctx);

    app.get(
      '/api/v1/admin/sessions',
      {
        preHandler,
        schema: {
          tags: ['admin'],
          summary: 'Live sessions of every user, newest first, filtered by user, address, country, network and risk band',
          querystring: Type.Object({
            user: Type.Optional(Type.String({ maxLength: 128, description: 'Username or user id' })),
            ip: Type.Optional(Type.String({ maxLength: 64, description: 'Exact address, or a prefix ending in * ("203.0.113.*")' })),
            country: Type.Optional(
              Type.String({ pattern: '^[A-Za-z]{2}$', description: 'ISO 3166 country code of the sign-in that opened the session' }),
            ),
            network: Type.Optional(
              Type.String({
                pattern: '^(?:[Aa][Ss])?[0-9]{1,10}$',
                description: 'The sign-in\'s network: AS number ("AS29695" or "29695")',
              }),
            ),
            risk: Type.Optional(
              Type.String({
                pattern: '^(?:low|medium|high|very_high)(?:,(?:low|medium|high|very_high))*$',
                description: 'Risk bands the sign-in was judged in, comma-separated ("high,very_high")',
              }),
            ),
            limit: Type.Integer({ minimum: 1, maximum: 1000, default: 200 }),
          }),
          response: { 200: Type.Object({ sessions: Type.Array(AdminSessionSchema) }), ...errors },
        },
      },
      async (request) => {
        const { sessions, users } = await searchSessions(ctx.deps, {
          user: request.query.user?.trim() || undefined,
          ip: request.query.ip?.trim() || undefined,
          country: request.query.country,
          network: request.query.network,
          risk: request.query.risk ? (request.query.risk.split(',') as RiskBand[]) : undefined,
          limit: request.query.limit,
        });
        return { sessions: sessions.map((s) => adminSessionView(s, users.get(s.userId)?.username ?? null)) };
      },
    );

    app.delete(
      '/api/v1/admin/sessions/:id',
      {
        preHandler,
        schema: {
          tags: ['admin'],
          summary: "Revoke anyone's session; its next request must sign in again",
          params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
          response: { 204: Type.Null(), ...errors },
        },
      },
      async (request, reply) => {
        await revokeAnySession(ctx.deps, request.params.id, requestContext(request));
        return reply.code(204).send(null);
      },
    );
  };
