import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { changePassword } from '../../auth/password-change.js';
import type { HttpContext } from '../http-context.js';
import { authOf, requestContext, requireSession } from '../request-auth.js';
import { errors, toIso } from '../schemas.js';

export const accountRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    app.post(
      '/api/v1/account/password',
      {
        preHandler: requireSession(ctx.deps, ctx.cookies),
        schema: {
          tags: ['account'],
          summary: 'Change my password (ends my other sessions unless told not to)',
          body: Type.Object(
            {
              current_password: Type.String({ minLength: 1, maxLength: 4096 }),
              new_password: Type.String({ minLength: 1, maxLength: 4096 }),
              end_other_sessions: Type.Optional(Type.Boolean({ default: true })),
            },
            { additionalProperties: false },
          ),
          response: { 200: Type.Object({ ended_sessions: Type.Integer() }), ...errors },
        },
      },
      async (request) => {
        const { user, session } = authOf(request);
        const result = await changePassword(
          ctx.deps,
          user,
          session,
          {
            currentPassword: request.body.current_password,
            newPassword: request.body.new_password,
            endOtherSessions: request.body.end_other_sessions ?? true,
          },
          requestContext(request),
        );
        return { ended_sessions: result.endedSessions };
      },
    );

    app.get(
      '/api/v1/events',
      {
        preHandler: requireSession(ctx.deps, ctx.cookies, { allowEnrollment: true }),
        schema: {
          tags: ['account'],
          summary: 'My security events, newest first',
          querystring: Type.Object({
            limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
            before: Type.Optional(Type.Integer({ minimum: 1, description: 'Return events older than this id (pagination)' })),
          }),
          response: {
            200: Type.Object({
              events: Type.Array(
                Type.Object({
                  id: Type.Integer(),
                  at: Type.String({ format: 'date-time' }),
                  type: Type.String(),
                  outcome: Type.String(),
                  session_id: Type.Union([Type.String(), Type.Null()]),
                  ip: Type.Union([Type.String(), Type.Null()]),
                  user_agent: Type.Union([Type.String(), Type.Null()]),
                  reason: Type.Union([Type.String(), Type.Null()]),
                }),
              ),
              next_before: Type.Union([Type.Integer(), Type.Null()]),
            }),
            ...errors,
          },
        },
      },
      async (request) => {
        const { user } = authOf(request);
        const { limit, before } = request.query;
        const events = await ctx.deps.store.events.list({ userId: user.id, beforeId: before, limit });
        return {
          events: events.map((e) => ({
            id: e.id!,
            at: toIso(e.at),
            type: e.type,
            outcome: e.outcome,
            session_id: e.sessionId,
            ip: e.ip,
            user_agent: e.userAgent,
            reason: e.reason,
          })),
          next_before: events.length === limit ? events[events.length - 1]!.id! : null,
        };
      },
    );
  };
