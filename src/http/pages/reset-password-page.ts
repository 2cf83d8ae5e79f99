import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { resetLinkInvalid, resetPassword, userOfResetLink } from '../../auth/password-reset.js';
import { hasSecondFactor, stepUpMethodsOf } from '../../auth/sensitive-actions.js';
import { DEFAULT_PASSWORD_RULES } from '../../core/factors/password-policy.js';
import type { HttpContext } from '../http-context.js';
import { requestContext } from '../request-auth.js';
import { codeField, type CodeMethod, methodFromQuery } from './code-fields.js';
import { html } from './html.js';
import { formError, hiddenField, textField } from './layout.js';
import { refusal, seeOther, sendPage, withRetryAfter } from './page-support.js';

/**
 * The page of a password reset link (auth/password-reset.ts, ASVS 5.0 V6.4.3): a new password
 * twice and, for an account with a second factor, a code from it. Success ends every session and
 * sends the user to sign in with the new password.
 */
const PAGE = '/reset-password';
const MAX_TOKEN = 512;

interface ResetView {
  token: string;
  method: CodeMethod;
  /** The account has a second factor: the form asks for a code. */
  needsCode: boolean;
  error?: string;
}

function resetPage(view: ResetView) {
  const errorId = view.error ? 'reset-error' : undefined;
  const otherMethod: CodeMethod = view.method === 'totp' ? 'recovery_code' : 'totp';
  const switchUrl = `${PAGE}?${new URLSearchParams({ token: view.token, ...(otherMethod === 'totp' ? {} : { method: otherMethod }) })}`;
  return html`<section class="card card-narrow">
    <h1>Choose a new password</h1>
    <p class="lead">
      ${
        view.needsCode
          ? 'Choose a new password and confirm it is you with your second factor. Every session of your account is then signed out.'
          : 'Choose a new password. Every session of your account is then signed out.'
      }
    </p>
    <form method="post" action="${PAGE}">
      ${formError('reset-error', view.error)} ${hiddenField('token', view.token)}
      ${textField({ name: 'new_password', label: 'New password', type: 'password', autocomplete: 'new-password', minlength: DEFAULT_PASSWORD_RULES.minLength, maxlength: 4096, autofocus: true, errorId, hint: `At least ${DEFAULT_PASSWORD_RULES.minLength} characters.` })}
      ${textField({ name: 'confirm_password', label: 'Confirm new password', type: 'password', autocomplete: 'new-password', maxlength: 4096 })}
      ${view.needsCode ? html`<input type="hidden" name="method" value="${view.method}" /> ${codeField(view.method, undefined)}` : null}
      <button type="submit" class="button button-primary button-block">Set the new password</button>
    </form>
    ${
      view.needsCode
        ? html`<p class="alt-links">
            <a href="${switchUrl}">${view.method === 'totp' ? 'Use a recovery code instead' : 'Use your authenticator app instead'}</a>
          </p>`
        : null
    }
  </section>`;
}

const ResetQuery = Type.Object({
  token: Type.Optional(Type.String({ maxLength: MAX_TOKEN })),
  method: Type.Optional(Type.String({ maxLength: 32 })),
});

const ResetForm = Type.Object({
  token: Type.String({ maxLength: MAX_TOKEN }),
  new_password: Type.String({ maxLength: 4096 }),
  confirm_password: Type.String({ maxLength: 4096 }),
  method: Type.Optional(Type.Union([Type.Literal('totp'), Type.Literal('recovery_code')])),
  code: Type.Optional(Type.String({ maxLength: 64 })),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});

/** Status of a re-rendered form by refusal. */
const REFUSED_STATUS: Record<string, number> = {
  rate_limited: 429,
  password_rejected: 400,
  bad_request: 400,
  method_not_available: 400,
  factor_locked: 403,
};

export const resetPasswordPageRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    const deadLink = (reply: FastifyReply) =>
      sendPage(
        reply,
        {
          title: 'Reset link not valid',
          body: html`<section class="card card-narrow">
            <h1>Link not valid</h1>
            <p>${resetLinkInvalid().message}</p>
          </section>`,
        },
        410,
      );

    app.get(PAGE, { schema: { hide: true, querystring: ResetQuery } }, async (request, reply) => {
      const user = await userOfResetLink(ctx.deps, request.query.token);
      if (!user) return deadLink(reply);
      const methods = await stepUpMethodsOf(ctx.deps, user);
      // A passkey-only account answers with a recovery code here: the page takes typed codes.
      const method =
        request.query.method === undefined && !methods.includes('totp') ? 'recovery_code' : methodFromQuery(request.query.method);
      const view = { token: request.query.token!, method, needsCode: methods.length > 0 };
      return sendPage(reply, { title: 'Choose a new password', body: resetPage(view) });
    });

    app.post(PAGE, { schema: { hide: true, body: ResetForm } }, async (request, reply) => {
      const body = request.body;
      const user = await userOfResetLink(ctx.deps, body.token);
      if (!user) return deadLink(reply);
      const view = { token: body.token, method: body.method ?? 'totp', needsCode: await hasSecondFactor(ctx.deps, user) };
      if (body.new_password !== body.confirm_password)
        return sendPage(
          reply,
          { title: 'Choose a new password', body: resetPage({ ...view, error: 'The two new passwords do not match.' }) },
          400,
        );
      try {
        await resetPassword(
          ctx.deps,
          { token: body.token, newPassword: body.new_password, method: body.method, code: body.code },
          requestContext(request),
        );
        return seeOther(reply, '/login?notice=password_reset');
      } catch (err) {
        const refused = refusal(err);
        if (refused.code === 'reset_link_invalid') return deadLink(reply);
        withRetryAfter(reply, refused);
        return sendPage(
          reply,
          { title: 'Choose a new password', body: resetPage({ ...view, error: refused.message }) },
          REFUSED_STATUS[refused.code] ?? 401,
        );
      }
    });
  };
