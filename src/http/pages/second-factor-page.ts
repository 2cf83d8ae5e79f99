import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { MAX_RETURN_TO_LENGTH } from '../../core/access/return-to.js';
import type { AppError } from '../../auth/errors.js';
import { completeSecondFactor, livePendingLogin } from '../../auth/sign-in.js';
import { setSignInCookies, type HttpContext } from '../http-context.js';
import { requestContext } from '../request-auth.js';
import { html } from './html.js';
import {
  alternativeMethodLink,
  answerMethodsOf,
  challengeAnswers,
  type AnswerMethods,
  type CodeMethod,
  codeRefusalText,
  methodFromQuery,
  shownMethod,
} from './code-fields.js';
import { afterSignIn, type LoginNotice } from './login-page.js';
import { refusal, returnAddress, seeOther, sendPage, withRetryAfter } from './page-support.js';

/** Refusals that end the pending sign-in: the user must start again from the password. */
const ENDS_SIGN_IN: ReadonlySet<AppError['code']> = new Set(['pending_login_invalid', 'too_many_attempts', 'factor_locked']);

const endedSignIn = (err: AppError): LoginNotice =>
  err.code === 'too_many_attempts' || err.code === 'factor_locked' ? err.code : 'pending_login_invalid';

interface SecondFactorView {
  /** The code form shown, or null when the user has no code method for it (a passkey only). */
  method: CodeMethod | null;
  /** The code methods the user may use here (what they set up, less what webauthn.require_for refuses). */
  codeMethods: CodeMethod[];
  returnTo?: string;
  error?: string;
  csrfToken?: string;
  /** The user has a passkey: offer it first. */
  passkeys: boolean;
  /** Offer "remember this device for N days" (config remember_device). */
  rememberDays?: number;
}

const PAGE = '/login/second-factor';

/** Back to the password, saying why, still on the way to where the user was going. */
function signInAgain(notice: LoginNotice, returnTo: string | undefined): string {
  const query = new URLSearchParams({ notice });
  if (returnTo) query.set('return_to', returnTo);
  return `/login?${query.toString()}`;
}

function secondFactorPage(view: SecondFactorView) {
  const recovery = view.method === 'recovery_code';
  return html`<section class="card card-narrow">
    <h1>Two-factor sign-in</h1>
    <p class="lead">
      ${
        recovery
          ? 'Lost your phone or your passkey? Sign in with a recovery code.'
          : 'Your password was correct. Now confirm it is you with your second factor.'
      }
    </p>
    ${challengeAnswers({
      path: PAGE,
      method: view.method,
      passkeys: view.passkeys,
      passkeyUrls: {
        options: '/api/v1/login/second-factor/webauthn/options',
        verify: '/api/v1/login/second-factor',
        done: afterSignIn(view.returnTo),
      },
      errorId: 'code-error',
      error: view.error,
      csrfToken: view.csrfToken,
      returnTo: view.returnTo,
      extraFields: rememberDeviceField(view.rememberDays),
      submitLabel: 'Verify',
    })}
    <p class="alt-links">${alternativeMethodLink(PAGE, view.method, view, view.returnTo)} <a href="/login">Start over</a></p>
  </section>`;
}

/** "Remember this device": a revocable, server-side memory of this browser (src/auth/risk/sign-in-risk.ts). */
const rememberDeviceField = (days: number | undefined) =>
  days === undefined
    ? null
    : html`<label class="checkbox"
        ><input type="checkbox" name="remember_device" value="on" /> Remember this device for ${days} days</label
      >`;

const rememberDays = (ctx: HttpContext): number | undefined =>
  ctx.deps.config.rememberDevice ? Math.round(ctx.deps.config.rememberDevice.lifetimeMs / 86_400_000) : undefined;

const SecondFactorQuery = Type.Object({
  method: Type.Optional(Type.String({ maxLength: 32 })),
  return_to: Type.Optional(Type.String({ maxLength: MAX_RETURN_TO_LENGTH })),
});

const SecondFactorForm = Type.Object({
  method: Type.Union([Type.Literal('totp'), Type.Literal('recovery_code')]),
  code: Type.String({ maxLength: 64 }),
  return_to: Type.Optional(Type.String({ maxLength: MAX_RETURN_TO_LENGTH })),
  remember_device: Type.Optional(Type.Literal('on')),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});

export const secondFactorPageRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    app.get(PAGE, { schema: { hide: true, querystring: SecondFactorQuery } }, async (request, reply) => {
      const returnTo = returnAddress(ctx.deps.config, request.query.return_to);
      let methods;
      try {
        const { user } = await livePendingLogin(ctx.deps, ctx.cookies.pendingToken(request));
        methods = await answerMethodsOf(ctx.deps, user);
      } catch (err) {
        return seeOther(reply, signInAgain(endedSignIn(refusal(err)), returnTo));
      }
      const method = shownMethod(methodFromQuery(request.query.method), methods);
      return sendPage(reply, {
        title: 'Two-factor sign-in',
        body: secondFactorPage({
          method,
          ...methods,
          returnTo,
          csrfToken: ctx.cookies.csrfToken(request),
          rememberDays: rememberDays(ctx),
        }),
      });
    });

    app.post(PAGE, { schema: { hide: true, body: SecondFactorForm } }, async (request, reply) => {
      const { method, code } = request.body;
      const returnTo = returnAddress(ctx.deps.config, request.body.return_to);
      try {
        const issued = await completeSecondFactor(
          ctx.deps,
          { pendingToken: ctx.cookies.pendingToken(request), method, code, rememberDevice: request.body.remember_device === 'on' },
          requestContext(request),
        );
        await setSignInCookies(ctx, request, reply, issued);
        // webauthn.require_for without a passkey: on to register one.
        return seeOther(reply, issued.session.kind === 'enrollment' ? '/enroll' : afterSignIn(returnTo));
      } catch (err) {
        const refused = refusal(err);
        if (ENDS_SIGN_IN.has(refused.code)) return seeOther(reply, signInAgain(endedSignIn(refused), returnTo));
        withRetryAfter(reply, refused);
        const error = codeRefusalText(refused.message, refused.extra.detail);
        // The re-rendered page offers what the first one did, the passkey button included.
        let methods: AnswerMethods = { passkeys: false, codeMethods: [method] };
        try {
          methods = await answerMethodsOf(ctx.deps, (await livePendingLogin(ctx.deps, ctx.cookies.pendingToken(request))).user);
        } catch (ended) {
          return seeOther(reply, signInAgain(endedSignIn(refusal(ended)), returnTo));
        }
        const shown = shownMethod(method, methods);
        return sendPage(
          reply,
          {
            title: 'Two-factor sign-in',
            body: secondFactorPage({
              method: shown,
              ...methods,
              returnTo,
              error,
              csrfToken: ctx.cookies.csrfToken(request),
              rememberDays: rememberDays(ctx),
            }),
          },
          refused.code === 'rate_limited'
            ? 429
            : refused.code === 'method_not_available'
              ? 400
              : refused.code === 'phishing_resistant_required'
                ? 403
                : 401,
        );
      }
    });
  };
