import type { AuthDeps } from '../../auth/deps.js';
import { passkeySignInPlan } from '../../auth/phishing-resistant.js';
import type { SecondFactorMethod } from '../../core/policy/second-factor-policy.js';
import type { User } from '../../store/store.js';
import { html, type SafeHtml } from './html.js';
import { csrfField, formError, hiddenField, textField } from './layout.js';
import { passkeyAssertOption } from './passkey-section.js';

/** The methods answered by typing a code. */
export type CodeMethod = Extract<SecondFactorMethod, 'totp' | 'recovery_code'>;

/**
 * The input that answers a second-factor challenge, one per method, shared by the sign-in
 * challenge and the step-up page. The form around it posts `method` and `code`.
 */
export function codeField(method: CodeMethod, errorId: string | undefined): SafeHtml {
  return method === 'totp'
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
}

/** The method a page shows when the link names none or an unknown one. */
export const methodFromQuery = (value: string | undefined): CodeMethod => (value === 'recovery_code' ? 'recovery_code' : 'totp');

/** A page's own address for another method, keeping the way back. */
export function methodSwitchUrl(path: string, method: CodeMethod, returnTo: string | undefined): string {
  const query = new URLSearchParams();
  if (method !== 'totp') query.set('method', method);
  if (returnTo) query.set('return_to', returnTo);
  const search = query.toString();
  return search ? `${path}?${search}` : path;
}

/** The link to the other method under a challenge form. */
export const otherMethodLink = (path: string, current: CodeMethod, returnTo: string | undefined): SafeHtml =>
  current === 'totp'
    ? html`<a href="${methodSwitchUrl(path, 'recovery_code', returnTo)}">Use a recovery code instead</a>`
    : html`<a href="${methodSwitchUrl(path, 'totp', returnTo)}">Use your authenticator app instead</a>`;

/** A refused code, with the tries left when the refusal counts them. */
export function codeRefusalText(message: string, detail: Record<string, unknown> | undefined): string {
  const attemptsLeft = detail?.attempts_left;
  return typeof attemptsLeft === 'number' ? `${message} ${attemptsLeft} ${attemptsLeft === 1 ? 'try' : 'tries'} left.` : message;
}

/** What a user can answer a challenge with: passkeys, and the code methods set up and allowed. */
export interface AnswerMethods {
  passkeys: boolean;
  /** What they set up, less what webauthn.require_for refuses (an app code when a passkey is required). */
  codeMethods: CodeMethod[];
}

/** The methods the sign-in challenge and the step-up page offer this user. */
export async function answerMethodsOf(deps: AuthDeps, user: User): Promise<AnswerMethods> {
  const passkeys = (await deps.store.webauthn.countCredentials(user.id)) > 0;
  const plan = await passkeySignInPlan(deps, user);
  const codeMethods: CodeMethod[] = [];
  if ((await deps.store.factors.findConfirmedTotp(user.id)) && (!plan || plan.kind !== 'passkey')) codeMethods.push('totp');
  if ((await deps.store.factors.countRecoveryCodesLeft(user.id)) > 0) codeMethods.push('recovery_code');
  return { passkeys, codeMethods };
}

/** The form to show for the method asked for: it if the user has it, else their first code method, else none (passkey only). */
export function shownMethod(asked: CodeMethod, methods: AnswerMethods): CodeMethod | null {
  if (methods.codeMethods.includes(asked)) return asked;
  if (methods.passkeys) return null;
  return methods.codeMethods[0] ?? asked;
}

/** The link to the other code method, if the user has one; with no code form shown, the recovery code. */
export function alternativeMethodLink(path: string, shown: CodeMethod | null, methods: AnswerMethods, returnTo: string | undefined) {
  const other = methods.codeMethods.find((m) => m !== shown);
  if (!other) return null;
  return shown === null
    ? html`<a href="${methodSwitchUrl(path, other, returnTo)}">Use a recovery code instead</a> ·`
    : html`${otherMethodLink(path, shown, returnTo)} ·`;
}

/**
 * The answers a challenge page offers, sign-in and step-up alike: the passkey button when the user
 * has one, then the code form for the method shown (none for a passkey-only account, whose error
 * then stands alone).
 */
export function challengeAnswers(view: {
  /** The page the code form posts to. */
  path: string;
  method: CodeMethod | null;
  passkeys: boolean;
  /** Where the passkey ceremony asks for options and sends its answer. */
  passkeyUrls: { options: string; verify: string; done: string };
  errorId: string;
  error?: string;
  csrfToken?: string;
  returnTo?: string;
  /** More fields in the code form (e.g. "remember this device"). */
  extraFields?: SafeHtml | null;
  submitLabel: string;
}): SafeHtml {
  const errorId = view.error ? view.errorId : undefined;
  return html`${view.method === null && view.error ? html`<p class="form-error" role="alert" id="${view.errorId}">${view.error}</p>` : null}
  ${
    view.passkeys
      ? passkeyAssertOption({ optionsUrl: view.passkeyUrls.options, verifyUrl: view.passkeyUrls.verify, doneUrl: view.passkeyUrls.done })
      : null
  }
  ${
    view.method === null
      ? null
      : html`<form method="post" action="${view.path}">
          ${formError(view.errorId, view.error)} ${csrfField(view.csrfToken)} ${hiddenField('return_to', view.returnTo)}
          <input type="hidden" name="method" value="${view.method}" />
          ${codeField(view.method, errorId)} ${view.extraFields ?? null}
          <button type="submit" class="button button-primary button-block">${view.submitLabel}</button>
        </form>`
  }`;
}
