import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { completeSetup } from '../../auth/setup.js';
import { setSessionCookies, type HttpContext } from '../http-context.js';
import { requestContext } from '../request-auth.js';
import { errors, LoginResponseSchema, toIso } from '../schemas.js';

export const setupRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    app.post(
      '/api/v1/setup',
      {
        schema: {
          tags: ['setup'],
          summary: 'Create the first administrator with the one-time setup link token',
          body: Type.Object(
            {
              token: Type.String({ minLength: 1, maxLength: 128 }),
              username: Type.String({ minLength: 1, maxLength: 256 }),
              password: Type.String({ minLength: 1, maxLength: 4096 }),
            },
            { additionalProperties: false },
          ),
          response: { 200: LoginResponseSchema, ...errors },
        },
      },
      async (request, reply) => {
        const issued = await completeSetup(ctx.deps, request.body, requestContext(request));
        setSessionCookies(ctx, reply, issued);
        return { state: 'enrollment_required' as const, expires_at: toIso(issued.session.expiresAt) };
      },
    );
  };
