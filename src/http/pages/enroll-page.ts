import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { confirmTotpEnrollment, startTotpEnrollment, type TotpEnrollment } from '../../auth/totp-enrollment.js';
import { setSessionCookies, type HttpContext } from '../http-context.js';
import { authOf, requestContext } from '../request-auth.js';
import { html } from './html.js';
import { checkbox, csrfField, formError, textField } from './layout.js';
import { recoveryCodesPage } from './recovery-codes-page.js';
import { refusal, requirePageSession, seeOther, sendPage } from './page-support.js';
import { stepUpRedirect } from './step-up-redirect.js';
import { mustUsePasskey } from '../../auth/phishing-resistant.js';
import { passkeyScript } from './passkey-section.js';

/** Groups of four read and type back more easily: "JBSW Y3DP EHPK 3PXP". */
const groupedSecret = (secret: string): string => secret.match(/.{1,4}/g)?.join(' ') ?? secret;

const qrDataUri = (svg: string): string => `data:image/svg+xml;base64,${Buffer.from(svg, 'utf8').toString('base64')}`;

interface EnrollView {
  enrollment: TotpEnrollment;
  /** A confirmed factor exists: confirming this one replaces it. */
  replacing: boolean;
  error?: string;
  endOtherSessions?: boolean;
  csrfToken?: string;
}

function enrollPage(view: EnrollView) {
  const { enrollment } = view;
  return html`<section class="card" data-enroll-totp>
    <h1>${view.replacing ? 'Set up a new authenticator' : 'Set up your authenticator app'}</h1>
    <p class="lead">
      twofold asks for a code from an authenticator app (such as Aegis, 2FAS, Google Authenticator or 1Password) each time you sign
      in.${view.replacing ? ' Confirming replaces your current authenticator: its codes stop working.' : ''}
    </p>
    <div class="enroll-grid">
      <div class="enroll-step">
        <h2><span class="step-number">1</span> Scan this QR code</h2>
        <img
          class="qr"
          src="${qrDataUri(enrollment.qrSvg)}"
          width="200"
          height="200"
          alt="QR code to add twofold to your authenticator app"
        />
        <p class="hint">Can't scan it? Type this key into the app instead (time-based, 6 digits, 30 seconds):</p>
        <p><code id="totp-secret" class="secret" data-secret="${enrollment.secret}">${groupedSecret(enrollment.secret)}</code></p>
        <p class="hint">On this device? <a href="${enrollment.otpauthUri}">Open in an authenticator app</a>.</p>
      </div>
      <div class="enroll-step">
        <h2><span class="step-number">2</span> Enter the code it shows</h2>
        <form method="post" action="/enroll">
          ${formError('enroll-error', view.error)} ${csrfField(view.csrfToken)}
          ${textField({
            name: 'code',
            label: '6-digit code',
            autocomplete: 'one-time-code',
            inputmode: 'numeric',
            pattern: '[0-9 ]*',
            maxlength: 12,
            autofocus: true,
            errorId: view.error ? 'enroll-error' : undefined,
            extraClass: 'input-code',
          })}
          ${checkbox('end_other_sessions', 'Sign out my other sessions', view.endOtherSessions ?? true)}
          <button type="submit" class="button button-primary button-block">Confirm and continue</button>
        </form>
      </div>
    </div>
  </section>`;
}

/**
 * "Or use a passkey": registration from the enrollment session (src/auth/passkey-enrollment.ts).
 * The API answers with the recovery codes, which passkeys.js shows in place of the form, once.
 */
function passkeyEnrollOption(view: { username: string; only: boolean }) {
  return html`<section class="card" aria-labelledby="enroll-passkey-title">
    <h2 id="enroll-passkey-title">${view.only ? 'Register a passkey or security key' : 'Or use a passkey or security key'}</h2>
    <p class="lead">
      ${
        view.only
          ? "Your account must sign in with a passkey or security key: it works only on twofold's own address, so a look-alike site cannot phish it."
          : 'Instead of codes, confirm each sign-in with a passkey on this device or a security key: it cannot be phished.'
      }
    </p>
    <form
      class="form-narrow"
      data-passkey-register
      data-options-url="/api/v1/factors/webauthn/registration/options"
      data-verify-url="/api/v1/factors/webauthn/registration/verify"
      data-done-url="/account"
    >
      <p class="form-error" role="alert" data-passkey-status hidden></p>
      <div class="field">
        <label for="field-passkey-name">Name for the passkey</label>
        <input id="field-passkey-name" class="input" name="name" maxlength="64" required placeholder="e.g. YubiKey or Laptop" />
      </div>
      <button type="submit" class="button button-primary">Register a passkey</button>
    </form>
    <div data-passkey-codes hidden>
      <h2>Save your recovery codes</h2>
      <p class="lead">
        Your passkey is set up. Each code signs you in once if you lose it. <strong>This is the only time they are shown.</strong>
      </p>
      <ol id="recovery-codes" class="codes" data-download-name="${`twofold-recovery-codes-${view.username}.txt`}"></ol>
      <p class="hint">Keep them apart from your passkey: in a password manager, or printed and put away.</p>
      <p><a class="button button-primary" href="/account">I saved them — continue</a></p>
    </div>
  </section>`;
}

/** A refusal that leaves nothing to enroll with (a one-factor session replacing a factor). */
function cannotEnrollPage(message: string) {
  return html`<section class="card card-narrow">
    <h1>Set up a new authenticator</h1>
    <p class="form-error" role="alert">${message}</p>
    <p><a href="/account">Back to my account</a></p>
  </section>`;
}

const EnrollForm = Type.Object({
  code: Type.String({ maxLength: 64 }),
  // A checkbox is only sent when ticked.
  end_other_sessions: Type.Optional(Type.String({ maxLength: 8 })),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});

export const enrollPageRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    const gate = requirePageSession(ctx, { allowEnrollment: true });

    app.get('/enroll', { schema: { hide: true }, preHandler: gate }, async (request, reply) => {
      const { user, session } = authOf(request);
      const account = { username: user.username, csrfToken: ctx.cookies.csrfToken(request) };
      // webauthn.require_for: the restricted session is for a passkey alone.
      if (session.kind === 'enrollment' && mustUsePasskey(ctx.deps, user)) {
        return sendPage(reply, {
          title: 'Register a passkey',
          account,
          body: html`${passkeyEnrollOption({ username: user.username, only: true })}${passkeyScript}`,
        });
      }
      try {
        // Reloading shows the same pending secret: startTotpEnrollment reuses it.
        const enrollment = await startTotpEnrollment(ctx.deps, user, session, requestContext(request));
        const replacing = (await ctx.deps.store.factors.findConfirmedTotp(user.id)) !== undefined;
        return sendPage(reply, {
          title: 'Set up authenticator',
          account,
          body: html`${enrollPage({ enrollment, replacing, csrfToken: account.csrfToken })}
          ${session.kind === 'enrollment' ? html`${passkeyEnrollOption({ username: user.username, only: false })}${passkeyScript}` : null}`,
        });
      } catch (err) {
        const refused = refusal(err);
        const stepUp = stepUpRedirect(refused, '/enroll');
        if (stepUp) return seeOther(reply, stepUp);
        return sendPage(reply, { title: 'Set up authenticator', account, body: cannotEnrollPage(refused.message) }, 403);
      }
    });

    app.post('/enroll', { schema: { hide: true, body: EnrollForm }, preHandler: gate }, async (request, reply) => {
      const { user, session } = authOf(request);
      const endOtherSessions = request.body.end_other_sessions !== undefined;
      const account = { username: user.username, csrfToken: ctx.cookies.csrfToken(request) };
      try {
        const result = await confirmTotpEnrollment(
          ctx.deps,
          user,
          session,
          { code: request.body.code, endOtherSessions },
          requestContext(request),
        );
        const csrfToken = setSessionCookies(ctx, reply, result.issued);
        // Shown once, as the answer to this POST; its sign-out form carries the new session's CSRF
        // token (ASVS V7.4.4: every signed-in page can sign out).
        return sendPage(reply, {
          title: 'Recovery codes',
          account: { username: user.username, csrfToken },
          body: recoveryCodesPage({
            username: user.username,
            codes: result.recoveryCodes,
            endedSessions: result.endedSessions,
            heading: 'Save your recovery codes',
            lead: 'Your authenticator app is set up.',
          }),
        });
      } catch (err) {
        const refused = refusal(err);
        const stepUp = stepUpRedirect(refused, '/enroll');
        if (stepUp) return seeOther(reply, stepUp);
        if (refused.code === 'forbidden')
          return sendPage(reply, { title: 'Set up authenticator', account, body: cannotEnrollPage(refused.message) }, 403);
        try {
          const enrollment = await startTotpEnrollment(ctx.deps, user, session, requestContext(request));
          const replacing = (await ctx.deps.store.factors.findConfirmedTotp(user.id)) !== undefined;
          return sendPage(
            reply,
            {
              title: 'Set up authenticator',
              account,
              body: enrollPage({ enrollment, replacing, error: refused.message, endOtherSessions, csrfToken: account.csrfToken }),
            },
            refused.code === 'invalid_code' ? 401 : 409,
          );
        } catch (again) {
          return sendPage(reply, { title: 'Set up authenticator', account, body: cannotEnrollPage(refusal(again).message) }, 403);
        }
      }
    });
  };
