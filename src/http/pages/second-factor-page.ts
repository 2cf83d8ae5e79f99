import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AppError } from '../../auth/errors.js';
import { completeSecondFactor, livePendingLogin } from '../../auth/sign-in.js';
import type { SecondFactorMethod } from '../../core/policy/second-factor-policy.js';
import { setSessionCookies, type HttpContext } from '../http-context.js';
import { requestContext } from '../request-auth.js';
import { html } from './html.js';
import { csrfField, formError, hiddenField, textField } from './layout.js';
import { afterSignIn, type LoginNotice } from './login-page.js';
import { refusal, safeReturnTo, seeOther, sendPage, withRetryAfter } from './page-support.js';

/** Refusals that end the pending sign-in: the user must start again from the password. */
const ENDS_SIGN_IN: ReadonlySet<AppError['code']> = new Set(['pending_login_invalid', 'too_many_attempts', 'factor_locked']);

const endedSignIn = (err: AppError): LoginNotice =>
  err.code === 'too_many_attempts' || err.code === 'factor_locked' ? err.code : 'pending_login_invalid';

interface SecondFactorView {
  method: SecondFactorMethod;
  returnTo?: string;
  error?: string;
  csrfToken?: string;
}

const withReturnTo = (path: string, returnTo: string | undefined, joiner: '?' | '&'): string =>
  returnTo ? `${path}${joiner}return_to=${encodeURIComponent(returnTo)}` : path;

function secondFactorPage(view: SecondFactorView) {
  const errorId = view.error ? 'code-error' : undefined;
  const totp = view.method === 'totp';
  const field = totp
    ? textField({
        name: 'code',
        label: 'Code from your authenticator app',
        autocomplete: 'one-time-code',
        inputmode: 'numeric',
        pattern: '[0-9 ]*',
        maxlength: 12,
        autofocus: true,
        hint: 'Open your authenticator app and type the 6-digit code shown for twofold.',
        errorId,
        extraClass: 'input-code',
      })
    : textField({
        name: 'code',
        label: 'Recovery code',
        autocomplete: 'one-time-code',
        maxlength: 64,
        autofocus: true,
        hint: 'One of the ten codes you saved when you set up two-factor sign-in, like abcd-efgh-jkmn. Each works once.',
        errorId,
        extraClass: 'input-code',
      });
  const other = totp
    ? html`<a href="${withReturnTo('/login/second-factor?method=recovery_code', view.returnTo, '&')}">Use a recovery code instead</a>`
    : html`<a href="${withReturnTo('/login/second-factor', view.returnTo, '?')}">Use your authenticator app instead</a>`;
  return html`<section class="card card-narrow">
    <h1>Two-factor sign-in</h1>
    <p class="lead">
      ${totp ? 'Your password was correct. Now confirm it is you with your second factor.' : 'Lost your phone? Sign in with a recovery code.'}
    </p>
    <form method="post" action="/login/second-factor">
      ${formError('code-error', view.error)} ${csrfField(view.csrfToken)} ${hiddenField('return_to', view.returnTo)}
      <input type="hidden" name="method" value="${view.method}" />
      ${field}
      <button type="submit" class="button button-primary button-block">Verify</button>
    </form>
    <p class="alt-links">${other} · <a href="/login">Start over</a></p>
  </section>`;
}

const SecondFactorQuery = Type.Object({
  method: Type.Optional(Type.String({ maxLength: 32 })),
  return_to: Type.Optional(Type.String({ maxLength: 1024 })),
});

const SecondFactorForm = Type.Object({
  method: Type.Union([Type.Literal('totp'), Type.Literal('recovery_code')]),
  code: Type.String({ maxLength: 64 }),
  return_to: Type.Optional(Type.String({ maxLength: 1024 })),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});

export const secondFactorPageRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    app.get('/login/second-factor', { schema: { hide: true, querystring: SecondFactorQuery } }, async (request, reply) => {
      try {
        await livePendingLogin(ctx.deps, ctx.cookies.pendingToken(request));
      } catch (err) {
        return seeOther(reply, `/login?notice=${endedSignIn(refusal(err))}`);
      }
      const method: SecondFactorMethod = request.query.method === 'recovery_code' ? 'recovery_code' : 'totp';
      const returnTo = safeReturnTo(request.query.return_to);
      return sendPage(reply, {
        title: 'Two-factor sign-in',
        body: secondFactorPage({ method, returnTo, csrfToken: ctx.cookies.csrfToken(request) }),
      });
    });

    app.post('/login/second-factor', { schema: { hide: true, body: SecondFactorForm } }, async (request, reply) => {
      const { method, code } = request.body;
      const returnTo = safeReturnTo(request.body.return_to);
      try {
        const issued = await completeSecondFactor(
          ctx.deps,
          { pendingToken: ctx.cookies.pendingToken(request), method, code },
          requestContext(request),
        );
        setSessionCookies(ctx, reply, issued);
        return seeOther(reply, afterSignIn(returnTo));
      } catch (err) {
        const refused = refusal(err);
        if (ENDS_SIGN_IN.has(refused.code)) return seeOther(reply, `/login?notice=${endedSignIn(refused)}`);
        withRetryAfter(reply, refused);
        const attemptsLeft = refused.extra.detail?.attempts_left;
        const error =
          typeof attemptsLeft === 'number'
            ? `${refused.message} ${attemptsLeft} ${attemptsLeft === 1 ? 'try' : 'tries'} left.`
            : refused.message;
        return sendPage(
          reply,
          { title: 'Two-factor sign-in', body: secondFactorPage({ method, returnTo, error, csrfToken: ctx.cookies.csrfToken(request) }) },
          refused.code === 'rate_limited' ? 429 : refused.code === 'method_not_available' ? 400 : 401,
        );
      }
    });
  };
