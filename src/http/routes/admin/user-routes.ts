import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { revokeUserSessions } from '../../../admin/admin-sessions.js';
import { searchUsers, userDetail } from '../../../admin/admin-users.js';
import type { HttpContext } from '../../http-context.js';
import { requestContext } from '../../request-auth.js';
import { errors } from '../../schemas.js';
import { requireAdmin } from './admin-gate.js';
import { AdminUserSchema, UserDetailSchema } from './admin-schemas.js';
import { adminUserView, describeDevice, userDetailView } from './admin-views.js';

const UserParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

export const userRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    const preHandler = requireAdmin(ctx);

    app.get(
      '/api/v1/admin/users',
      {
        preHandler,
        schema: {
          tags: ['admin'],
          summary: 'Users whose username or display name contains q',
          querystring: Type.Object({
            q: Type.String({ maxLength: 128, default: '' }),
            limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
          }),
          response: { 200: Type.Object({ users: Type.Array(AdminUserSchema) }), ...errors },
        },
      },
      async (request) => ({ users: (await searchUsers(ctx.deps, request.query.q, request.query.limit)).map(adminUserView) }),
    );

    app.get(
      '/api/v1/admin/users/:id',
      {
        preHandler,
        schema: {
          tags: ['admin'],
          summary: 'One user: factors, live sessions, recent events, behaviour baseline, recent risk decisions',
          params: UserParams,
          response: { 200: UserDetailSchema, ...errors },
        },
      },
      async (request) => userDetailView(await userDetail(ctx.deps, request.params.id, describeDevice)),
    );

    app.delete(
      '/api/v1/admin/users/:id/sessions',
      {
        preHandler,
        schema: {
          tags: ['admin'],
          summary: 'End every live session of a user (they must sign in again everywhere)',
          params: UserParams,
          response: { 200: Type.Object({ revoked: Type.Integer() }), ...errors },
        },
      },
      async (request) => ({ revoked: await revokeUserSessions(ctx.deps, request.params.id, requestContext(request)) }),
    );
  };
