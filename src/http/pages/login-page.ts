import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { MAX_RETURN_TO_LENGTH } from '../../core/access/return-to.js';
import { authenticate, revokeSession } from '../../auth/sessions.js';
import { signInWithPassword } from '../../auth/sign-in.js';
import { setPendingCookies, setSignInCookies, type HttpContext } from '../http-context.js';
import { requestContext } from '../request-auth.js';
import { html } from './html.js';
import { csrfField, formError, hiddenField, notice, textField } from './layout.js';
import { refusal, returnAddress, seeOther, sendPage, withRetryAfter } from './page-support.js';

/** Why someone was sent back to the sign-in page: fixed texts, so a link cannot put words on our page. */
export const LOGIN_NOTICES = {
  signed_out: 'You are signed out.',
  pending_login_invalid: 'This sign-in has expired or was already used. Please sign in again.',
  too_many_attempts: 'Too many wrong codes for this sign-in. Please sign in again.',
  factor_locked: 'Too many failed codes for this account. An administrator must reset its second factor.',
  session_ended: 'Your session has ended. Please sign in again.',
  password_reset: 'Your password was changed and every session signed out. Sign in with the new password.',
} as const;
export type LoginNotice = keyof typeof LOGIN_NOTICES;

const NO_USERS_YET =
  'There are no accounts yet. Create the first administrator with the one-time setup link that twofold printed in its console when it started (restart it for a new link).';

const noticeText = (key: string | undefined): string | undefined =>
  key !== undefined && Object.hasOwn(LOGIN_NOTICES, key) ? LOGIN_NOTICES[key as LoginNotice] : undefined;

export const afterSignIn = (returnTo: string | undefined): string => returnTo ?? '/account';

interface LoginView {
  username?: string;
  returnTo?: string;
  error?: string;
  notice?: string;
  /** No user exists yet: point to the setup link. */
  noUsersYet?: boolean;
  csrfToken?: string;
}

function loginPage(view: LoginView) {
  const errorId = view.error ? 'login-error' : undefined;
  return html`<section class="card card-narrow">
    <h1>Sign in</h1>
    ${notice(view.noUsersYet ? NO_USERS_YET : undefined)} ${notice(view.notice)}
    <form method="post" action="/login">
      ${formError('login-error', view.error)} ${csrfField(view.csrfToken)} ${hiddenField('return_to', view.returnTo)}
      ${textField({ name: 'username', label: 'Username', autocomplete: 'username', value: view.username, autofocus: !view.username, maxlength: 256 })}
      ${textField({ name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password', autofocus: Boolean(view.username), errorId, maxlength: 4096 })}
      <button type="submit" class="button button-primary button-block">Sign in</button>
    </form>
  </section>`;
}

const LoginQuery = Type.Object({
  return_to: Type.Optional(Type.String({ maxLength: MAX_RETURN_TO_LENGTH })),
  notice: Type.Optional(Type.String({ maxLength: 64 })),
});

const LoginForm = Type.Object({
  username: Type.String({ maxLength: 256 }),
  password: Type.String({ maxLength: 4096 }),
  return_to: Type.Optional(Type.String({ maxLength: MAX_RETURN_TO_LENGTH })),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});

export const loginPageRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    /**
     * Before the first administrator exists nobody can sign in (a newcomer who opens a protected app
     * first lands here): say where the way in is. Once a user exists this is never asked again.
     */
    let usersExist = false;
    const noUsersYet = async (): Promise<boolean> => {
      if (!usersExist) usersExist = (await ctx.deps.store.users.count()) > 0;
      return !usersExist;
    };

    app.get('/login', { schema: { hide: true, querystring: LoginQuery } }, async (request, reply) => {
      const returnTo = returnAddress(ctx.deps.config, request.query.return_to);
      // Already signed in: no second sign-in needed.
      const auth = await authenticate(ctx.deps, ctx.cookies.sessionToken(request));
      if (auth.kind === 'authenticated') return seeOther(reply, auth.session.kind === 'enrollment' ? '/enroll' : afterSignIn(returnTo));
      return sendPage(reply, {
        title: 'Sign in',
        body: loginPage({
          returnTo,
          notice: noticeText(request.query.notice),
          noUsersYet: await noUsersYet(),
          csrfToken: ctx.cookies.csrfToken(request),
        }),
      });
    });

    app.post('/login', { schema: { hide: true, body: LoginForm } }, async (request, reply) => {
      const returnTo = returnAddress(ctx.deps.config, request.body.return_to);
      try {
        const result = await signInWithPassword(
          ctx.deps,
          { username: request.body.username, password: request.body.password },
          requestContext(request),
        );
        switch (result.state) {
          case 'second_factor_required':
            setPendingCookies(ctx, reply, result.pendingToken, result.pending.expiresAt);
            return seeOther(reply, returnTo ? `/login/second-factor?return_to=${encodeURIComponent(returnTo)}` : '/login/second-factor');
          case 'enrollment_required':
            await setSignInCookies(ctx, request, reply, result.issued);
            return seeOther(reply, '/enroll');
          case 'authenticated':
            await setSignInCookies(ctx, request, reply, result.issued);
            return seeOther(reply, afterSignIn(returnTo));
        }
      } catch (err) {
        const refused = refusal(err);
        withRetryAfter(reply, refused);
        const status = refused.code === 'rate_limited' ? 429 : 401;
        return sendPage(
          reply,
          {
            title: 'Sign in',
            body: loginPage({
              username: request.body.username,
              returnTo,
              error: refused.message,
              csrfToken: ctx.cookies.csrfToken(request),
            }),
          },
          status,
        );
      }
    });

    app.post('/logout', { schema: { hide: true } }, async (request, reply) => {
      const auth = await authenticate(ctx.deps, ctx.cookies.sessionToken(request));
      if (auth.kind === 'authenticated') await revokeSession(ctx.deps, auth.session, 'logout', requestContext(request));
      ctx.cookies.clearAll(reply);
      return seeOther(reply, '/login?notice=signed_out');
    });
  };
