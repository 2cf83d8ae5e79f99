import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { removePasskey, renamePasskey } from '../../auth/webauthn.js';
import { assertRecentAuthentication } from '../../auth/sensitive-actions.js';
import { stepUpRedirect } from './step-up-redirect.js';
import type { HttpContext } from '../http-context.js';
import { authOf, requestContext } from '../request-auth.js';
import { refusal, requirePageSession, seeOther } from './page-support.js';

/** The account page's passkey forms (adding one is done by the page script through the API). */
const PasskeyForm = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 1400 }),
  name: Type.Optional(Type.String({ maxLength: 256 })),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});

export const passkeyPageRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    const gate = requirePageSession(ctx);

    app.post('/account/passkeys/rename', { schema: { hide: true, body: PasskeyForm }, preHandler: gate }, async (request, reply) => {
      const { user, session } = authOf(request);
      try {
        await renamePasskey(ctx.deps, user, session, request.body.id, request.body.name ?? '', requestContext(request));
        return seeOther(reply, '/account?done=passkey_renamed');
      } catch (err) {
        return seeOther(reply, `/account?done=${refusal(err).code === 'bad_request' ? 'passkey_name_invalid' : 'passkey_not_found'}`);
      }
    });

    app.post('/account/passkeys/remove', { schema: { hide: true, body: PasskeyForm }, preHandler: gate }, async (request, reply) => {
      const { user, session } = authOf(request);
      try {
        await assertRecentAuthentication(ctx.deps, user, session);
      } catch (err) {
        const toStepUp = stepUpRedirect(refusal(err), '/account');
        if (toStepUp) return seeOther(reply, toStepUp);
        throw err;
      }
      try {
        await removePasskey(
          ctx.deps,
          user.id,
          request.body.id,
          { userId: user.id, sessionId: session.id, admin: false },
          requestContext(request),
        );
        return seeOther(reply, '/account?done=passkey_removed');
      } catch (err) {
        refusal(err);
        return seeOther(reply, '/account?done=passkey_not_found');
      }
    });
  };
