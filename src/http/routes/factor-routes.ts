import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { regenerateRecoveryCodes } from '../../auth/recovery-codes.js';
import { confirmTotpEnrollment, startTotpEnrollment } from '../../auth/totp-enrollment.js';
import { setSessionCookies, type HttpContext } from '../http-context.js';
import { authOf, requestContext, requireSession } from '../request-auth.js';
import { errors } from '../schemas.js';

const RecoveryCodes = Type.Object({
  recovery_codes: Type.Array(Type.String(), { description: 'Shown once: each works one time. Only their hashes are kept.' }),
});

export const factorRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    app.get(
      '/api/v1/factors',
      {
        preHandler: requireSession(ctx.deps, ctx.cookies, { allowEnrollment: true }),
        schema: {
          tags: ['factors'],
          summary: 'My second factors',
          response: {
            200: Type.Object({
              totp: Type.Object({ enrolled: Type.Boolean(), confirmed_at: Type.Union([Type.String(), Type.Null()]) }),
              recovery_codes_left: Type.Integer(),
            }),
            ...errors,
          },
        },
      },
      async (request) => {
        const { user } = authOf(request);
        const totp = await ctx.deps.store.factors.findConfirmedTotp(user.id);
        return {
          totp: { enrolled: totp !== undefined, confirmed_at: totp?.confirmedAt ? new Date(totp.confirmedAt).toISOString() : null },
          recovery_codes_left: await ctx.deps.store.factors.countRecoveryCodesLeft(user.id),
        };
      },
    );

    app.post(
      '/api/v1/factors/totp',
      {
        preHandler: requireSession(ctx.deps, ctx.cookies, { allowEnrollment: true }),
        schema: {
          tags: ['factors'],
          summary: 'Start enrolling an authenticator app: returns the secret, its otpauth URI and a QR code',
          response: { 200: Type.Object({ secret: Type.String(), otpauth_uri: Type.String(), qr_svg: Type.String() }), ...errors },
        },
      },
      async (request) => {
        const { user, session } = authOf(request);
        const enrollment = await startTotpEnrollment(ctx.deps, user, session, requestContext(request));
        return { secret: enrollment.secret, otpauth_uri: enrollment.otpauthUri, qr_svg: enrollment.qrSvg };
      },
    );

    app.post(
      '/api/v1/factors/totp/confirm',
      {
        preHandler: requireSession(ctx.deps, ctx.cookies, { allowEnrollment: true }),
        schema: {
          tags: ['factors'],
          summary: 'Confirm the authenticator with a current code; returns recovery codes and a new two-factor session',
          body: Type.Object(
            {
              code: Type.String({ minLength: 1, maxLength: 32 }),
              end_other_sessions: Type.Optional(Type.Boolean({ default: true, description: 'End my other sessions (default true)' })),
            },
            { additionalProperties: false },
          ),
          response: { 200: Type.Intersect([RecoveryCodes, Type.Object({ ended_sessions: Type.Integer() })]), ...errors },
        },
      },
      async (request, reply) => {
        const { user, session } = authOf(request);
        const result = await confirmTotpEnrollment(
          ctx.deps,
          user,
          session,
          { code: request.body.code, endOtherSessions: request.body.end_other_sessions ?? true },
          requestContext(request),
        );
        setSessionCookies(ctx, reply, result.issued);
        return { recovery_codes: result.recoveryCodes, ended_sessions: result.endedSessions };
      },
    );

    app.post(
      '/api/v1/factors/recovery-codes',
      {
        preHandler: requireSession(ctx.deps, ctx.cookies),
        schema: {
          tags: ['factors'],
          summary: 'Replace my recovery codes; the old ones stop working',
          response: { 200: RecoveryCodes, ...errors },
        },
      },
      async (request) => {
        const { user, session } = authOf(request);
        // Other sessions are ended through DELETE /api/v1/sessions, if the client wants to (ASVS V7.4.3).
        return { recovery_codes: (await regenerateRecoveryCodes(ctx.deps, user, session, requestContext(request))).codes };
      },
    );
  };
