import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticate } from '../../auth/sessions.js';
import { stepUp } from '../../auth/step-up.js';
import { MAX_RETURN_TO_LENGTH } from '../../core/access/return-to.js';
import type { User } from '../../store/store.js';
import { setSessionCookies, type HttpContext } from '../http-context.js';
import { requestContext, type Authenticated } from '../request-auth.js';
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
import { html } from './html.js';
import { afterSignIn } from './login-page.js';
import { loginUrl, refusal, returnAddress, seeOther, sendPage, withRetryAfter } from './page-support.js';

/**
 * Step-up ("sudo mode"): a signed-in user proves a second factor again because what they are going
 * to needs a recent one (an access rule's max_auth_age). Success replaces the session with one that
 * records the fresh proof (auth/step-up.ts) and returns to where the gate sent them from.
 */

const PAGE = '/step-up';

interface StepUpView {
  /** The code form shown, or null when the user confirms with a passkey only. */
  method: CodeMethod | null;
  /** Passkeys and the code methods this user may confirm with (code-fields.ts). */
  methods: AnswerMethods;
  returnTo?: string;
  error?: string;
  csrfToken?: string;
}

const LEAD: Record<CodeMethod | 'passkey', string> = {
  totp: 'What you are opening needs a recent second factor. Confirm with your authenticator app to continue.',
  recovery_code: 'What you are opening needs a recent second factor. Confirm with one of your recovery codes to continue.',
  passkey: 'What you are opening needs a recent second factor. Confirm with your passkey or security key to continue.',
};

function stepUpPage(view: StepUpView) {
  return html`<section class="card card-narrow">
    <h1>Confirm it is you</h1>
    <p class="lead">${LEAD[view.method ?? 'passkey']}</p>
    ${challengeAnswers({
      path: PAGE,
      method: view.method,
      passkeys: view.methods.passkeys,
      passkeyUrls: {
        options: '/api/v1/session/step-up/webauthn/options',
        verify: '/api/v1/session/step-up',
        done: afterSignIn(view.returnTo),
      },
      errorId: 'step-up-error',
      error: view.error,
      csrfToken: view.csrfToken,
      returnTo: view.returnTo,
      submitLabel: 'Confirm',
    })}
    <p class="alt-links">${alternativeMethodLink(PAGE, view.method, view.methods, view.returnTo)} <a href="/account">Cancel</a></p>
  </section>`;
}

const StepUpQuery = Type.Object({
  method: Type.Optional(Type.String({ maxLength: 32 })),
  return_to: Type.Optional(Type.String({ maxLength: MAX_RETURN_TO_LENGTH })),
});

const StepUpForm = Type.Object({
  method: Type.Union([Type.Literal('totp'), Type.Literal('recovery_code')]),
  code: Type.String({ maxLength: 64 }),
  return_to: Type.Optional(Type.String({ maxLength: MAX_RETURN_TO_LENGTH })),
  _csrf: Type.Optional(Type.String({ maxLength: 128 })),
});

/** Status of a re-rendered form by refusal. */
const REFUSED_STATUS: Record<string, number> = { rate_limited: 429, method_not_available: 400, factor_locked: 403 };

export const stepUpPageRoutes = (ctx: HttpContext): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    /**
     * Step-up needs a two-factor session. Without any, signing in proves a factor just now, so the
     * user goes straight on to where they were going; a session still to enroll must enroll first.
     */
    async function signedIn(request: FastifyRequest, reply: FastifyReply, returnTo: string | undefined) {
      const auth = await authenticate(ctx.deps, ctx.cookies.sessionToken(request));
      if (auth.kind !== 'authenticated') return { redirect: seeOther(reply, loginUrl(returnTo)) };
      if (auth.session.kind === 'enrollment') return { redirect: seeOther(reply, '/enroll') };
      return { auth: { session: auth.session, user: auth.user } satisfies Authenticated };
    }

    const render = (request: FastifyRequest, reply: FastifyReply, user: User, view: Omit<StepUpView, 'csrfToken'>, status = 200) => {
      const csrfToken = ctx.cookies.csrfToken(request);
      return sendPage(
        reply,
        { title: 'Confirm it is you', account: { username: user.username, csrfToken }, body: stepUpPage({ ...view, csrfToken }) },
        status,
      );
    };

    app.get(PAGE, { schema: { hide: true, querystring: StepUpQuery } }, async (request, reply) => {
      const returnTo = returnAddress(ctx.deps.config, request.query.return_to);
      const result = await signedIn(request, reply, returnTo);
      if (result.redirect) return result.redirect;
      const methods = await answerMethodsOf(ctx.deps, result.auth.user);
      return render(request, reply, result.auth.user, {
        method: shownMethod(methodFromQuery(request.query.method), methods),
        methods,
        returnTo,
      });
    });

    app.post(PAGE, { schema: { hide: true, body: StepUpForm } }, async (request, reply) => {
      const { method, code } = request.body;
      const returnTo = returnAddress(ctx.deps.config, request.body.return_to);
      const result = await signedIn(request, reply, returnTo);
      if (result.redirect) return result.redirect;
      const { user, session } = result.auth;
      try {
        const issued = await stepUp(ctx.deps, user, session, { method, code }, requestContext(request));
        setSessionCookies(ctx, reply, issued);
        return seeOther(reply, afterSignIn(returnTo));
      } catch (err) {
        const refused = refusal(err);
        if (refused.code === 'enrollment_only') return seeOther(reply, '/enroll');
        withRetryAfter(reply, refused);
        const error = codeRefusalText(refused.message, refused.extra.detail);
        // The re-rendered page offers what the first one did, the passkey button included.
        const methods = await answerMethodsOf(ctx.deps, user);
        return render(
          request,
          reply,
          user,
          { method: shownMethod(method, methods), methods, returnTo, error },
          REFUSED_STATUS[refused.code] ?? 401,
        );
      }
    });
  };
