import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { changePassword } from '../../auth/password-change.js';
import { regenerateRecoveryCodes } from '../../auth/recovery-codes.js';
import { listSessions, revokeMyOtherSessions, revokeOwnSession } from '../../auth/sessions.js';
import { DEFAULT_PASSWORD_RULES } from '../../core/factors/password-policy.js';
import { RECOVERY_CODE_COUNT } from '../../core/factors/recovery-codes.js';
import type { SessionId } from '../../core/ids.js';
import type { Session } from '../../core/session/session.js';
import type { AuditEvent, TotpFactor, TrustedDevice, User, WebAuthnCredential } from '../../store/store.js';
import type { HttpContext } from '../http-context.js';
import { authOf, requestContext } from '../request-auth.js';
import { describeUserAgent } from '../user-agent.js';
import { html, type SafeHtml } from './html.js';
import { checkbox, csrfField, formError, notice, textField } from './layout.js';
import { recoveryCodesPage } from './recovery-codes-page.js';
import { passkeysSection } from './passkey-section.js';
import { judgeStepUp } from '../../core/policy/step-up-policy.js';
import { describeSecurityEvent } from './security-events.js';
import { devicesSection } from './devices-section.js';
import { listTrustedDevices, revokeTrustedDevice } from '../../auth/trusted-devices.js';
import { formatTime, refusal, requirePageSession, seeOther, sendPage } from './page-support.js';
import { stepUpRedirect } from './step-up-redirect.js';

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/** Confirmations after a redirect: a fixed text per key, and at most a number from the query. */
const DONE: Record<string, (n: number | undefined) => string> = {
  password_changed: (n) => `Your password was changed.${n ? ` ${plural(n, 'other session was', 'other sessions were')} signed out.` : ''}`,
  session_revoked: () => 'The session was signed out.',
  device_forgotten: () => 'The device was forgotten: its next sign-in asks for your second factor.',
  passkey_added: () => 'Your passkey was added. You can use it to sign in from now on.',
  passkey_renamed: () => 'The passkey was renamed.',
  passkey_removed: () => 'The passkey was removed.',
  passkey_name_invalid: () => 'A passkey name is 1 to 64 characters.',
  passkey_not_found: () => 'That passkey no longer exists.',
  others_revoked: (n) =>
    n ? `${plural(n, 'other session was', 'other sessions were')} signed out.` : 'There were no other sessions to sign out.',
};

function doneText(key: string | undefined, n: string | undefined): string | undefined {
  if (key === undefined || !Object.hasOwn(DONE, key)) return undefined;
  const count = n !== undefined && /^\d{1,5}$/.test(n) ? Number(n) : undefined;
  return DONE[key]!(count);
}

interface AccountData {
  user: User;
  current: Session;
  sessions: Session[];
  totp: TotpFactor | undefined;
  recoveryCodesLeft: number;
  events: AuditEvent[];
  passkeys: WebAuthnCredential[];
  /** Remembered browsers ("remember this device"). */
  devices: TrustedDevice[];
  /** Whether a second factor was proven recently enough to remove a passkey. */
  passkeyRemovalAllowed: boolean;
}

interface AccountView extends AccountData {
  csrfToken: string | undefined;
  done?: string;
  /** The page follows a factor change: offer to end the other sessions. */
  factorChanged?: boolean;
  passwordError?: string;
  recoveryCodesError?: string;
}

async function loadAccount(ctx: HttpContext, user: User, current: Session): Promise<AccountData> {
  const [sessions, totp, recoveryCodesLeft, events, passkeys, devices] = await Promise.all([
    listSessions(ctx.deps, user),
    ctx.deps.store.factors.findConfirmedTotp(user.id),
    ctx.deps.store.factors.countRecoveryCodesLeft(user.id),
    ctx.deps.store.events.list({ userId: user.id, limit: 10 }),
    ctx.deps.store.webauthn.listCredentials(user.id),
    listTrustedDevices(ctx.deps, user),
  ]);
  // This device first, then the others newest first (as listed).
  const ordered = [...sessions.filter((s) => s.id === current.id), ...sessions.filter((s) => s.id !== current.id)];
  const passkeyRemovalAllowed =
    judgeStepUp(current, { maxAuthAgeMs: ctx.deps.config.session.sensitiveMaxAgeMs }, ctx.deps.clock.now()).kind === 'satisfied';
  return { user, current, sessions: ordered, totp, recoveryCodesLeft, events, passkeys, devices, passkeyRemovalAllowed };
}

function deviceName(userAgent: string): string {
  const ua = describeUserAgent(userAgent);
  return `${ua.browser} on ${ua.os}`;
}

function sessionRow(session: Session, view: AccountView): SafeHtml {
  const ua = describeUserAgent(session.userAgent);
  const isCurrent = session.id === view.current.id;
  const name = `${ua.browser} on ${ua.os}`;
  const action = isCurrent
    ? html`<span class="badge badge-current">This device</span>`
    : html`<form method="post" action="/account/sessions/${session.id}/revoke">
        ${csrfField(view.csrfToken)}
        <button type="submit" class="button button-small button-danger" aria-label="${`Revoke the session of ${name}, ${session.ip}`}">
          Revoke
        </button>
      </form>`;
  return html`<tr${isCurrent ? html` class="row-current"` : null}>
      <td><span class="device">${name}</span><span class="muted">${ua.device}${session.kind === 'enrollment' ? ' · set-up only' : ''}</span></td>
      <td>${session.ip}</td>
      <td>${formatTime(session.createdAt)}</td>
      <td>${formatTime(session.lastSeenAt)}</td>
      <td class="cell-action">${action}</td>
    </tr>`;
}

function sessionsSection(view: AccountView): SafeHtml {
  const others = view.sessions.filter((s) => s.id !== view.current.id).length;
  return html`<section class="card" aria-labelledby="sessions-title">
    <h2 id="sessions-title">My sessions</h2>
    <div class="table-wrap">
      <table class="sessions">
        <thead>
          <tr>
            <th scope="col">Device</th>
            <th scope="col">IP address</th>
            <th scope="col">Signed in</th>
            <th scope="col">Last seen</th>
            <th scope="col"><span class="visually-hidden">Action</span></th>
          </tr>
        </thead>
        <tbody>
          ${view.sessions.map((s) => sessionRow(s, view))}
        </tbody>
      </table>
    </div>
    ${
      others > 0
        ? html`<form method="post" action="/account/sessions/revoke-others" class="section-action">
            ${csrfField(view.csrfToken)}
            <button type="submit" class="button button-danger">Sign out all other sessions</button>
          </form>`
        : html`<p class="hint">No other device is signed in.</p>`
    }
  </section>`;
}

function twoFactorSection(view: AccountView): SafeHtml {
  const totpLine = view.totp
    ? html`Authenticator app set up on ${formatTime(view.totp.confirmedAt ?? view.totp.createdAt)}.`
    : html`No authenticator app is set up.`;
  return html`<section class="card" aria-labelledby="two-factor-title">
    <h2 id="two-factor-title">Two-factor sign-in</h2>
    <p>${totpLine} <a href="/enroll">${view.totp ? 'Set up a new authenticator' : 'Set up an authenticator app'}</a></p>
    ${
      view.totp || view.passkeys.length > 0
        ? html`<form method="post" action="/account/recovery-codes">
            ${formError('recovery-codes-error', view.recoveryCodesError)} ${csrfField(view.csrfToken)}
            <p>Recovery codes left: <strong>${view.recoveryCodesLeft} of ${RECOVERY_CODE_COUNT}</strong>.</p>
            ${checkbox('end_other_sessions', 'Also sign out my other sessions', false)}
            <button type="submit" class="button">Regenerate recovery codes</button>
            <p class="hint">You get ${RECOVERY_CODE_COUNT} new codes; the old ones stop working at once.</p>
          </form>`
        : null
    }
  </section>`;
}

function passwordSection(view: AccountView): SafeHtml {
  const errorId = view.passwordError ? 'password-error' : undefined;
  return html`<section class="card" aria-labelledby="password-title">
    <h2 id="password-title">Change password</h2>
    <form method="post" action="/account/password" class="form-narrow">
      ${formError('password-error', view.passwordError)} ${csrfField(view.csrfToken)}
      <input type="text" name="username" value="${view.user.username}" autocomplete="username" hidden />
      ${textField({ name: 'current_password', label: 'Current password', type: 'password', autocomplete: 'current-password', autofocus: Boolean(errorId), errorId, maxlength: 4096 })}
      ${textField({ name: 'new_password', label: 'New password', type: 'password', autocomplete: 'new-password', minlength: DEFAULT_PASSWORD_RULES.minLength, maxlength: 4096, hint: `At least ${DEFAULT_PASSWORD_RULES.minLength} characters.` })}
      ${textField({ name: 'confirm_password', label: 'Confirm new password', type: 'password', autocomplete: 'new-password', maxlength: 4096 })}
      ${checkbox('end_other_sessions', 'Sign out my other sessions', true)}
      <button type="submit" class="button button-primary">Change password</button>
    </form>
  </section>`;
}

function eventsSection(view: AccountView): SafeHtml {
  return html`<section class="card" aria-labelledby="events-title">
    <h2 id="events-title">Recent security events</h2>
    ${
      view.events.length === 0
        ? html`<p class="hint">Nothing yet.</p>`
        : html`<ol class="events">
            ${view.events.map(
              (e) =>
                html`<li class="${e.outcome === 'failure' ? 'event event-failure' : 'event'}">
                  <span class="event-what">${describeSecurityEvent(e)}</span>
                  <span class="muted"
                    >${formatTime(e.at)}${e.ip ? ` · ${e.ip}` : ''}${e.userAgent ? ` · ${deviceName(e.userAgent)}` : ''}</span
                  >
                </li>`,
            )}
          </ol>`
    }
  </section>`;
}

/** Right after a factor change, the choice to end the other sessions, where there are any. */
function signOutOthersOffer(view: AccountView): SafeHtml | null {
  if (!view.factorChanged || !view.sessions.some((s) => s.id !== view.current.id)) return null;
  return html`<form method="post" action="/account/sessions/revoke-others" class="notice-action">
    ${csrfField(view.csrfToken)}
    <p>A sign-in factor changed. If another device should not stay signed in, end its session now.</p>
    <button type="submit" class="button button-danger">Sign out my other sessions</button>
  </form>`;
}

function accountPage(view: AccountView): SafeHtml {
  return html`<h1>My account</h1>
    ${notice(view.done)} ${signOutOthersOffer(view)} ${sessionsSection(view)} ${twoFactorSection(view)}
    ${passkeysSection({
      credentials: view.passkeys,
      csrfToken: view.csrfToken,
      fresh: view.passkeyRemovalAllowed,
    })}
    ${devicesSection(view)} ${passwordSection(view)} ${eventsSection(view)}`;
}

const AccountQuery = Type.Object({
  done: Type.Optional(Type.String({ maxLength: 32 })),
  n: Type.Optional(Type.String({ maxLength: 8 })),
});

const CsrfOnlyForm = Type.Object({ _csrf: Type.Optional(Type.String({ maxLength: 128 })) });

const RecoveryCodesForm = Type.Object({
  end_other_sessions: Type.Optional(Type.String({ maxLength: 8 })),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});

/** After these, the confirmation offers to sign out the other sessions (ASVS 5.0 V7.4.3). */
const FACTOR_CHANGES: ReadonlySet<string> = new Set(['passkey_added', 'passkey_removed']);

const PasswordForm = Type.Object({
  username: Type.Optional(Type.String({ maxLength: 256 })),
  current_password: Type.String({ maxLength: 4096 }),
  new_password: Type.String({ maxLength: 4096 }),
  confirm_password: Type.String({ maxLength: 4096 }),
  end_other_sessions: Type.Optional(Type.String({ maxLength: 8 })),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});

export const accountPageRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    const gate = requirePageSession(ctx);

    async function renderAccount(
      request: FastifyRequest,
      reply: FastifyReply,
      extra: Pick<AccountView, 'done' | 'factorChanged' | 'passwordError' | 'recoveryCodesError'>,
      status = 200,
    ): Promise<FastifyReply> {
      const { user, session } = authOf(request);
      const csrfToken = ctx.cookies.csrfToken(request);
      const view: AccountView = { ...(await loadAccount(ctx, user, session)), csrfToken, ...extra };
      return sendPage(
        reply,
        { title: 'My account', wide: true, account: { username: user.username, csrfToken }, body: accountPage(view) },
        status,
      );
    }

    app.get('/account', { schema: { hide: true, querystring: AccountQuery }, preHandler: gate }, async (request, reply) =>
      renderAccount(request, reply, {
        done: doneText(request.query.done, request.query.n),
        factorChanged: request.query.done !== undefined && FACTOR_CHANGES.has(request.query.done),
      }),
    );

    app.post('/account/password', { schema: { hide: true, body: PasswordForm }, preHandler: gate }, async (request, reply) => {
      const { user, session } = authOf(request);
      const body = request.body;
      if (body.new_password !== body.confirm_password)
        return renderAccount(request, reply, { passwordError: 'The two new passwords do not match.' }, 400);
      try {
        const result = await changePassword(
          ctx.deps,
          user,
          session,
          {
            currentPassword: body.current_password,
            newPassword: body.new_password,
            endOtherSessions: body.end_other_sessions !== undefined,
          },
          requestContext(request),
        );
        return seeOther(reply, `/account?done=password_changed&n=${result.endedSessions}`);
      } catch (err) {
        const refused = refusal(err);
        const stepUp = stepUpRedirect(refused, '/account');
        if (stepUp) return seeOther(reply, stepUp);
        return renderAccount(request, reply, { passwordError: refused.message }, refused.code === 'invalid_credentials' ? 401 : 400);
      }
    });

    app.post('/account/recovery-codes', { schema: { hide: true, body: RecoveryCodesForm }, preHandler: gate }, async (request, reply) => {
      const { user, session } = authOf(request);
      try {
        const { codes, endedSessions } = await regenerateRecoveryCodes(ctx.deps, user, session, requestContext(request), {
          endOtherSessions: request.body.end_other_sessions !== undefined,
        });
        return sendPage(reply, {
          title: 'Recovery codes',
          account: { username: user.username, csrfToken: ctx.cookies.csrfToken(request) },
          body: recoveryCodesPage({
            username: user.username,
            codes,
            endedSessions,
            heading: 'Your new recovery codes',
            lead: 'Your old recovery codes no longer work.',
          }),
        });
      } catch (err) {
        const refused = refusal(err);
        const stepUp = stepUpRedirect(refused, '/account');
        if (stepUp) return seeOther(reply, stepUp);
        return renderAccount(request, reply, { recoveryCodesError: refused.message }, refused.code === 'conflict' ? 409 : 403);
      }
    });

    app.post(
      '/account/sessions/:id/revoke',
      {
        schema: { hide: true, params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }), body: CsrfOnlyForm },
        preHandler: gate,
      },
      async (request, reply) => {
        const { user, session } = authOf(request);
        const id = request.params.id as SessionId;
        // An unknown or foreign id is refused by the use case and shown on the error page; a stale
        // factor goes to the step-up page first (ASVS V7.5.2).
        try {
          await revokeOwnSession(ctx.deps, user, session, id, requestContext(request));
        } catch (err) {
          const stepUp = stepUpRedirect(refusal(err), '/account');
          if (stepUp) return seeOther(reply, stepUp);
          throw err;
        }
        if (id === session.id) {
          ctx.cookies.clearAll(reply);
          return seeOther(reply, '/login?notice=signed_out');
        }
        return seeOther(reply, '/account?done=session_revoked');
      },
    );

    app.post(
      '/account/devices/:id/revoke',
      {
        schema: { hide: true, params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }), body: CsrfOnlyForm },
        preHandler: gate,
      },
      async (request, reply) => {
        await revokeTrustedDevice(ctx.deps, authOf(request).user, request.params.id, requestContext(request));
        return seeOther(reply, '/account?done=device_forgotten');
      },
    );

    app.post(
      '/account/sessions/revoke-others',
      { schema: { hide: true, body: CsrfOnlyForm }, preHandler: gate },
      async (request, reply) => {
        const { user, session } = authOf(request);
        let ended: number;
        try {
          ended = await revokeMyOtherSessions(ctx.deps, user, session, requestContext(request));
        } catch (err) {
          const stepUp = stepUpRedirect(refusal(err), '/account');
          if (stepUp) return seeOther(reply, stepUp);
          throw err;
        }
        return seeOther(reply, `/account?done=others_revoked&n=${ended}`);
      },
    );
  };
