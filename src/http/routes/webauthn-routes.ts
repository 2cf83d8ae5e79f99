import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../../auth/errors.js';
import { assertMayRegisterInEnrollment, assertMayRegisterPasskey, finishPasskeyEnrollment } from '../../auth/passkey-enrollment.js';
import { livePendingLogin } from '../../auth/sign-in.js';
import {
  finishPasskeyRegistration,
  listPasskeys,
  removePasskey,
  renamePasskey,
  startPasskeyAssertion,
  startPasskeyRegistration,
} from '../../auth/webauthn.js';
import { assertRecentAuthentication } from '../../auth/sensitive-actions.js';
import type { UserId } from '../../core/ids.js';
import { setSessionCookies, type HttpContext } from '../http-context.js';
import { authOf, requestContext, requireSession } from '../request-auth.js';
import { errors } from '../schemas.js';
import { requireAdmin } from './admin/admin-gate.js';
import {
  CeremonyOptionsSchema,
  CredentialIdParams,
  CredentialSchema,
  credentialView,
  PasskeyRegistrationSchema,
} from './webauthn-schemas.js';

/** The page's origin as the browser states it; API clients that send none are judged by the signed client data alone. */
export const requestOrigin = (request: FastifyRequest): string | undefined =>
  typeof request.headers.origin === 'string' ? request.headers.origin : undefined;

const CredentialName = Type.String({ minLength: 1, maxLength: 64, description: 'A name you choose, e.g. "YubiKey 5C" or "Laptop"' });

export const webauthnRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    const session = requireSession(ctx.deps, ctx.cookies);
    // Registering a passkey is also how a user who must set up a second factor may do so.
    const sessionOrEnrollment = requireSession(ctx.deps, ctx.cookies, { allowEnrollment: true });

    app.post(
      '/api/v1/factors/webauthn/registration/options',
      {
        preHandler: sessionOrEnrollment,
        schema: {
          tags: ['factors'],
          summary:
            'Start adding a passkey or security key: options for navigator.credentials.create() (from a full session: needs a recent factor, else 401 step_up_required)',
          response: { 200: CeremonyOptionsSchema, ...errors },
        },
      },
      async (request) => {
        const { user, session } = authOf(request);
        await assertMayRegisterPasskey(ctx.deps, user, session);
        return startPasskeyRegistration(ctx.deps, user, session, requestOrigin(request));
      },
    );

    app.post(
      '/api/v1/factors/webauthn/registration/verify',
      {
        preHandler: sessionOrEnrollment,
        schema: {
          tags: ['factors'],
          summary:
            "Finish adding a passkey: the authenticator's answer and the name to show. From an enrollment session it is the second factor set up: recovery codes are returned (once) and the session becomes a full two-factor one",
          body: Type.Object({ name: CredentialName, response: PasskeyRegistrationSchema }, { additionalProperties: false }),
          response: {
            201: Type.Intersect([
              CredentialSchema,
              Type.Object({
                recovery_codes: Type.Optional(
                  Type.Array(Type.String(), { description: 'Only when enrolling: shown once, each works one time' }),
                ),
              }),
            ]),
            ...errors,
          },
        },
      },
      async (request, reply) => {
        const { user, session } = authOf(request);
        await assertMayRegisterInEnrollment(ctx.deps, user, session);
        const credential = await finishPasskeyRegistration(ctx.deps, user, session, request.body, requestContext(request));
        if (session.kind === 'enrollment') {
          const enrolled = await finishPasskeyEnrollment(ctx.deps, user, session, credential, requestContext(request));
          setSessionCookies(ctx, reply, enrolled.issued);
          return reply.code(201).send({ ...credentialView(credential), recovery_codes: enrolled.recoveryCodes });
        }
        return reply.code(201).send(credentialView(credential));
      },
    );

    app.get(
      '/api/v1/factors/webauthn',
      {
        preHandler: session,
        schema: {
          tags: ['factors'],
          summary: 'My passkeys and security keys',
          response: { 200: Type.Object({ credentials: Type.Array(CredentialSchema) }), ...errors },
        },
      },
      async (request) => ({ credentials: (await listPasskeys(ctx.deps, authOf(request).user.id)).map(credentialView) }),
    );

    app.patch(
      '/api/v1/factors/webauthn/:credentialId',
      {
        preHandler: session,
        schema: {
          tags: ['factors'],
          summary: 'Rename a passkey',
          params: CredentialIdParams,
          body: Type.Object({ name: CredentialName }, { additionalProperties: false }),
          response: { 204: Type.Null(), ...errors },
        },
      },
      async (request, reply) => {
        const { user, session } = authOf(request);
        await renamePasskey(ctx.deps, user, session, request.params.credentialId, request.body.name, requestContext(request));
        return reply.code(204).send(null);
      },
    );

    app.delete(
      '/api/v1/factors/webauthn/:credentialId',
      {
        preHandler: session,
        schema: {
          tags: ['factors'],
          summary: 'Remove a passkey (needs a factor proven within session.sensitive_max_age, else 401 step_up_required)',
          params: CredentialIdParams,
          response: { 204: Type.Null(), ...errors },
        },
      },
      async (request, reply) => {
        const { user, session } = authOf(request);
        // Removing a factor weakens the account: a recent factor first (session.sensitive_max_age).
        await assertRecentAuthentication(ctx.deps, user, session);
        await removePasskey(
          ctx.deps,
          user.id,
          request.params.credentialId,
          { userId: user.id, sessionId: session.id, admin: false },
          requestContext(request),
        );
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/v1/login/second-factor/webauthn/options',
      {
        schema: {
          tags: ['sign-in'],
          summary: 'Options for answering the pending sign-in with a passkey (then POST /api/v1/login/second-factor, method "webauthn")',
          response: { 200: CeremonyOptionsSchema, ...errors },
        },
      },
      async (request) => {
        const { pending, user } = await livePendingLogin(ctx.deps, ctx.cookies.pendingToken(request));
        await ctx.deps.throttles.assertCodeAllowed(request.ip);
        return startPasskeyAssertion(ctx.deps, user, { purpose: 'sign_in', boundTo: pending.id }, requestOrigin(request));
      },
    );

    app.post(
      '/api/v1/session/step-up/webauthn/options',
      {
        preHandler: requireSession(ctx.deps, ctx.cookies, { allowStepUp: true }),
        schema: {
          tags: ['sessions'],
          summary: 'Options for a step-up with a passkey (then POST /api/v1/session/step-up, method "webauthn")',
          response: { 200: CeremonyOptionsSchema, ...errors },
        },
      },
      async (request) => {
        const { user, session } = authOf(request);
        await ctx.deps.throttles.assertCodeAllowed(request.ip);
        return startPasskeyAssertion(ctx.deps, user, { purpose: 'step_up', boundTo: session.id }, requestOrigin(request));
      },
    );

    const UserParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

    app.get(
      '/api/v1/admin/users/:id/webauthn',
      {
        preHandler: requireAdmin(ctx),
        schema: {
          tags: ['admin'],
          summary: "A user's passkeys and security keys",
          params: UserParams,
          response: { 200: Type.Object({ credentials: Type.Array(CredentialSchema) }), ...errors },
        },
      },
      async (request) => {
        const target = await ctx.deps.store.users.findById(request.params.id as UserId);
        if (!target) throw new AppError('not_found', 'No such user.');
        return { credentials: (await listPasskeys(ctx.deps, target.id)).map(credentialView) };
      },
    );

    app.delete(
      '/api/v1/admin/users/:id/webauthn/:credentialId',
      {
        preHandler: requireAdmin(ctx),
        schema: {
          tags: ['admin'],
          summary: "Remove a user's passkey",
          params: Type.Intersect([UserParams, CredentialIdParams]),
          response: { 204: Type.Null(), ...errors },
        },
      },
      async (request, reply) => {
        const { user, session } = authOf(request);
        await removePasskey(
          ctx.deps,
          request.params.id as UserId,
          request.params.credentialId,
          { userId: user.id, sessionId: session.id, admin: true },
          requestContext(request),
        );
        return reply.code(204).send(null);
      },
    );
  };
