import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { completeSetup, isSetupTokenValid } from '../../auth/setup.js';
import { DEFAULT_PASSWORD_RULES } from '../../core/factors/password-policy.js';
import { setSessionCookies, type HttpContext } from '../http-context.js';
import { requestContext } from '../request-auth.js';
import { html } from './html.js';
import { csrfField, formError, textField } from './layout.js';
import { refusal, seeOther, sendPage } from './page-support.js';

const PASSWORD_HINT = `At least ${DEFAULT_PASSWORD_RULES.minLength} characters. A few unrelated words make a strong, memorable passphrase.`;

interface SetupView {
  token: string;
  username?: string;
  error?: string;
  /** Which field the error is about, so it is marked and focused. */
  errorField?: 'username' | 'password';
  csrfToken?: string;
}

function setupPage(view: SetupView) {
  const errorId = view.error ? 'setup-error' : undefined;
  const focusPassword = view.errorField === 'password';
  return html`<section class="card card-narrow">
    <h1>Create the administrator</h1>
    <p class="lead">
      Welcome to twofold. Choose the first administrator's username and password; next you will set up an authenticator app.
    </p>
    <form method="post" action="/setup">
      ${formError('setup-error', view.error)} ${csrfField(view.csrfToken)}
      <input type="hidden" name="token" value="${view.token}" />
      ${textField({ name: 'username', label: 'Username', autocomplete: 'username', value: view.username, autofocus: !focusPassword, maxlength: 64, hint: 'Letters, digits and . _ @ - (up to 64).', errorId: view.errorField === 'username' ? errorId : undefined })}
      ${textField({ name: 'password', label: 'Password', type: 'password', autocomplete: 'new-password', autofocus: focusPassword, minlength: DEFAULT_PASSWORD_RULES.minLength, maxlength: 4096, hint: PASSWORD_HINT, errorId: focusPassword ? errorId : undefined })}
      ${textField({ name: 'confirm_password', label: 'Confirm password', type: 'password', autocomplete: 'new-password', maxlength: 4096 })}
      <button type="submit" class="button button-primary button-block">Create account</button>
    </form>
  </section>`;
}

/** A dead link cannot be repaired from the browser: only a restart prints a new one. */
function invalidLinkPage(lifetimeMinutes: number) {
  return html`<section class="card card-narrow">
    <h1>This setup link does not work</h1>
    <p class="form-error" role="alert">This setup link is not valid: it expired, was already used, or a newer one was printed.</p>
    <p>
      Restart twofold to print a new setup link in its console output. Each start prints a fresh link while no user exists; it works once
      and expires after ${lifetimeMinutes} minutes.
    </p>
    <p>If the administrator was already created, <a href="/login">sign in</a> instead.</p>
  </section>`;
}

const SetupQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 128 })) });

const SetupForm = Type.Object({
  token: Type.String({ maxLength: 128 }),
  username: Type.String({ maxLength: 256 }),
  password: Type.String({ maxLength: 4096 }),
  confirm_password: Type.String({ maxLength: 4096 }),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});

export const setupPageRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    const linkMinutes = Math.round(ctx.deps.config.setup.linkLifetimeMs / 60_000);

    app.get('/setup', { schema: { hide: true, querystring: SetupQuery } }, async (request, reply) => {
      const token = request.query.token;
      if (token === undefined || !(await isSetupTokenValid(ctx.deps, token))) {
        return sendPage(reply, { title: 'Setup link not valid', body: invalidLinkPage(linkMinutes) }, 410);
      }
      return sendPage(reply, { title: 'First-time setup', body: setupPage({ token, csrfToken: ctx.cookies.csrfToken(request) }) });
    });

    app.post('/setup', { schema: { hide: true, body: SetupForm } }, async (request, reply) => {
      const { token, username, password } = request.body;
      const again = (error: string, errorField: SetupView['errorField'], status: number) =>
        sendPage(
          reply,
          { title: 'First-time setup', body: setupPage({ token, username, error, errorField, csrfToken: ctx.cookies.csrfToken(request) }) },
          status,
        );
      if (password !== request.body.confirm_password) return again('The two passwords do not match.', 'password', 400);
      try {
        const issued = await completeSetup(ctx.deps, { token, username, password }, requestContext(request));
        setSessionCookies(ctx, reply, issued);
        return seeOther(reply, '/enroll');
      } catch (err) {
        const refused = refusal(err);
        if (refused.code === 'setup_link_invalid')
          return sendPage(reply, { title: 'Setup link not valid', body: invalidLinkPage(linkMinutes) }, 410);
        return again(
          refused.message,
          refused.code === 'password_rejected' ? 'password' : 'username',
          refused.code === 'username_taken' ? 409 : 400,
        );
      }
    });
  };
