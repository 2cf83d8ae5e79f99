import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { listSessions, revokeMyOtherSessions, revokeOwnSession } from '../../auth/sessions.js';
import type { SessionId } from '../../core/ids.js';
import { stepUp } from '../../auth/step-up.js';
import { setSessionCookies, type HttpContext } from '../http-context.js';
import { SecondFactorBody } from './login-routes.js';
import { authOf, bearerToken, requestContext, requireSession } from '../request-auth.js';
import { looksLikeJwt } from '../../auth/access-tokens.js';
import { continueTokensAfterStepUp } from '../../auth/refresh-tokens.js';
import { assertStepUp } from '../../auth/sensitive-actions.js';
import { errors, LoginResponseSchema, SessionListItemSchema, SessionSchema, sessionView, toIso } from '../schemas.js';
import { describeUserAgent } from '../user-agent.js';

export const sessionRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    app.get(
      '/api/v1/session',
      {
        preHandler: requireSession(ctx.deps, ctx.cookies, { allowEnrollment: true }),
        schema: {
          tags: ['sessions'],
          summary: 'The current session; with a requirement, 401 step_up_required unless the session meets it',
          querystring: Type.Object(
            {
              max_auth_age: Type.Optional(
                Type.Integer({ minimum: 0, maximum: 31_536_000, description: 'Seconds: a factor must have been proven this recently' }),
              ),
              min_aal: Type.Optional(Type.Union([Type.Literal(1), Type.Literal(2)], { description: 'Lowest acceptable assurance level' })),
              phishing_resistant: Type.Optional(Type.Boolean({ description: 'A passkey or security key must have been used' })),
            },
            { additionalProperties: false },
          ),
          response: { 200: SessionSchema, ...errors },
        },
      },
      async (request) => {
        const { session, user } = authOf(request);
        const { max_auth_age: maxAuthAge, min_aal: minAal, phishing_resistant: phishingResistant } = request.query;
        await assertStepUp(ctx.deps, user, session, {
          ...(maxAuthAge === undefined ? {} : { maxAuthAgeMs: maxAuthAge * 1000 }),
          ...(minAal === undefined ? {} : { minAal }),
          ...(phishingResistant ? { phishingResistant } : {}),
        });
        return sessionView(session, user);
      },
    );

    app.post(
      '/api/v1/session/step-up',
      {
        // A session asked to step up because its network or country changed must be able to.
        preHandler: requireSession(ctx.deps, ctx.cookies, { allowStepUp: true }),
        schema: {
          tags: ['sessions'],
          summary: 'Prove a second factor again (sudo mode); the session token is replaced',
          body: SecondFactorBody,
          response: { 200: LoginResponseSchema, ...errors },
        },
      },
      async (request, reply) => {
        const { session, user } = authOf(request);
        const bearer = bearerToken(request);
        if (bearer !== undefined && looksLikeJwt(bearer)) {
          // A token sign-in steps up without a cookie: its refresh token follows the new session.
          const issued = await stepUp(ctx.deps, user, session, request.body, requestContext(request), 'tokens');
          const access = await continueTokensAfterStepUp(ctx.deps, session, issued.session);
          return {
            state: 'authenticated' as const,
            access_token: access.accessToken,
            token_type: 'Bearer' as const,
            expires_in: access.expiresIn,
          };
        }
        const issued = await stepUp(ctx.deps, user, session, request.body, requestContext(request));
        setSessionCookies(ctx, reply, issued);
        return { state: 'authenticated' as const, expires_at: toIso(issued.session.expiresAt) };
      },
    );

    app.get(
      '/api/v1/sessions',
      {
        preHandler: requireSession(ctx.deps, ctx.cookies),
        schema: {
          tags: ['sessions'],
          summary: 'My live sessions, this one marked current',
          response: { 200: Type.Object({ sessions: Type.Array(SessionListItemSchema) }), ...errors },
        },
      },
      async (request) => {
        const { session: current, user } = authOf(request);
        const sessions = await listSessions(ctx.deps, user);
        return {
          sessions: sessions.map((s) => ({
            id: s.id,
            current: s.id === current.id,
            kind: s.kind,
            aal: s.aal,
            ip: s.ip,
            user_agent: s.userAgent,
            ...describeUserAgent(s.userAgent),
            created_at: toIso(s.createdAt),
            last_seen_at: toIso(s.lastSeenAt),
            expires_at: toIso(s.expiresAt),
            idle_expires_at: toIso(s.idleExpiresAt),
          })),
        };
      },
    );

    app.delete(
      '/api/v1/sessions/:id',
      {
        preHandler: requireSession(ctx.deps, ctx.cookies),
        schema: {
          tags: ['sessions'],
          summary:
            'Revoke one of my sessions (another one needs a factor proven within session.sensitive_max_age, else 401 step_up_required)',
          params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }),
          response: { 204: Type.Null(), ...errors },
        },
      },
      async (request, reply) => {
        const { session, user } = authOf(request);
        await revokeOwnSession(ctx.deps, user, session, request.params.id as SessionId, requestContext(request));
        if (request.params.id === session.id) ctx.cookies.clearAll(reply);
        return reply.code(204).send(null);
      },
    );

    app.delete(
      '/api/v1/sessions',
      {
        preHandler: requireSession(ctx.deps, ctx.cookies),
        schema: {
          tags: ['sessions'],
          summary: 'Sign out everywhere else: revoke all my sessions but this one (needs a recent factor, else 401 step_up_required)',
          response: { 200: Type.Object({ revoked: Type.Integer() }), ...errors },
        },
      },
      async (request) => {
        const { session, user } = authOf(request);
        return { revoked: await revokeMyOtherSessions(ctx.deps, user, session, requestContext(request)) };
      },
    );
  };
