import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { completeSecondFactor, signInWithPassword } from '../../auth/sign-in.js';
import { revokeSession } from '../../auth/sessions.js';
import { setPendingCookies, setSessionCookies, type HttpContext } from '../http-context.js';
import { presentedToken, requestContext } from '../request-auth.js';
import { authenticate } from '../../auth/sessions.js';
import { errors, LoginResponseSchema, toIso } from '../schemas.js';

export const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 256 }),
    password: Type.String({ minLength: 1, maxLength: 4096 }),
  },
  { additionalProperties: false },
);

export const SecondFactorBody = Type.Object(
  {
    method: Type.Union([Type.Literal('totp'), Type.Literal('recovery_code')]),
    code: Type.String({ minLength: 1, maxLength: 64 }),
  },
  { additionalProperties: false },
);

export const loginRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    app.post(
      '/api/v1/login',
      {
        schema: {
          tags: ['sign-in'],
          summary: 'Sign in with username and password (step one)',
          body: LoginBody,
          response: { 200: LoginResponseSchema, ...errors },
        },
      },
      async (request, reply) => {
        const result = await signInWithPassword(ctx.deps, request.body, requestContext(request));
        if (result.state === 'second_factor_required') {
          setPendingCookies(ctx, reply, result.pendingToken, result.pending.expiresAt);
          return { state: result.state, methods: result.methods, expires_at: toIso(result.pending.expiresAt) };
        }
        setSessionCookies(ctx, reply, result.issued);
        return { state: result.state, expires_at: toIso(result.issued.session.expiresAt) };
      },
    );

    app.post(
      '/api/v1/login/second-factor',
      {
        schema: {
          tags: ['sign-in'],
          summary: 'Answer the second-factor challenge of a pending sign-in (step two)',
          body: SecondFactorBody,
          response: { 200: LoginResponseSchema, ...errors },
        },
      },
      async (request, reply) => {
        const issued = await completeSecondFactor(
          ctx.deps,
          { pendingToken: ctx.cookies.pendingToken(request), method: request.body.method, code: request.body.code },
          requestContext(request),
        );
        setSessionCookies(ctx, reply, issued);
        return { state: 'authenticated' as const, expires_at: toIso(issued.session.expiresAt) };
      },
    );

    app.post(
      '/api/v1/logout',
      {
        schema: {
          tags: ['sign-in'],
          summary: 'End the current session',
          response: { 204: Type.Null(), ...errors },
        },
      },
      async (request, reply) => {
        const auth = await authenticate(ctx.deps, presentedToken(request, ctx.cookies));
        if (auth.kind === 'authenticated') await revokeSession(ctx.deps, auth.session, 'logout', requestContext(request));
        ctx.cookies.clearAll(reply);
        return reply.code(204).send(null);
      },
    );
  };
