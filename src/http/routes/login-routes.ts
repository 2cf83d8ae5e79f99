import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { completeSecondFactor, signInWithPassword } from '../../auth/sign-in.js';
import { revokeSession } from '../../auth/sessions.js';
import { setPendingCookies, setSignInCookies, type HttpContext } from '../http-context.js';
import { bearerToken, presentedToken, requestContext } from '../request-auth.js';
import { authenticateCredential } from '../../auth/credentials.js';
import { errors, LoginResponseSchema, toIso } from '../schemas.js';
import { issueTokens } from '../../auth/refresh-tokens.js';
import { tokenSignInResponse } from './token-routes.js';
import { PasskeyAssertionSchema } from './webauthn-schemas.js';

export const LoginBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 256 }),
    password: Type.String({ minLength: 1, maxLength: 4096 }),
    session_type: Type.Optional(
      Type.Union([Type.Literal('cookie'), Type.Literal('tokens')], {
        description: '"tokens": answer with an access and a refresh token instead of setting a session cookie (docs/tokens.md)',
      }),
    ),
  },
  { additionalProperties: false },
);

const RememberDevice = Type.Optional(
  Type.Boolean({
    description: 'Remember this browser (remember_device.lifetime, default 30 days): its low-risk sign-ins may skip the second factor',
  }),
);

export const SecondFactorBody = Type.Union([
  Type.Object(
    {
      method: Type.Union([Type.Literal('totp'), Type.Literal('recovery_code')]),
      code: Type.String({ minLength: 1, maxLength: 64 }),
      remember_device: RememberDevice,
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      method: Type.Literal('webauthn'),
      response: PasskeyAssertionSchema,
      remember_device: RememberDevice,
    },
    {
      additionalProperties: false,
      description: 'A passkey: the assertion from navigator.credentials.get() for options from the matching /webauthn/options',
    },
  ),
]);

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
        const { username, password, session_type: sessionType } = request.body;
        const result = await signInWithPassword(ctx.deps, { username, password, sessionType }, requestContext(request));
        if (result.state === 'second_factor_required' && sessionType === 'tokens') {
          // No cookie for a token client: it sends the pending token back as Authorization: Bearer.
          return {
            state: result.state,
            methods: result.methods,
            expires_at: toIso(result.pending.expiresAt),
            pending_token: result.pendingToken,
          };
        }
        if (result.state === 'second_factor_required') {
          setPendingCookies(ctx, reply, result.pendingToken, result.pending.expiresAt);
          return { state: result.state, methods: result.methods, expires_at: toIso(result.pending.expiresAt) };
        }
        if (result.issued.sessionType === 'tokens') return tokenSignInResponse(await issueTokens(ctx.deps, result.issued.session));
        await setSignInCookies(ctx, request, reply, result.issued);
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
        const { remember_device: rememberDevice, ...answer } = request.body;
        const issued = await completeSecondFactor(
          ctx.deps,
          { pendingToken: ctx.cookies.pendingToken(request) ?? bearerToken(request), rememberDevice, ...answer },
          requestContext(request),
        );
        // webauthn.require_for without a passkey: a session that may only register one (always a cookie).
        if (issued.session.kind === 'enrollment') {
          await setSignInCookies(ctx, request, reply, issued);
          return { state: 'enrollment_required' as const, expires_at: toIso(issued.session.expiresAt) };
        }
        if (issued.sessionType === 'tokens') return tokenSignInResponse(await issueTokens(ctx.deps, issued.session));
        await setSignInCookies(ctx, request, reply, issued);
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
        const auth = await authenticateCredential(ctx.deps, presentedToken(request, ctx.cookies));
        if (auth.kind === 'authenticated') await revokeSession(ctx.deps, auth.session, 'logout', requestContext(request));
        ctx.cookies.clearAll(reply);
        return reply.code(204).send(null);
      },
    );
  };
