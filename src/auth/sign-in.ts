import { hashToken, looksLikeSecretToken, newRecordId, newSecretToken } from '../core/ids.js';
import { normalizeUsername } from '../core/identity/username.js';
import { afterPassword, type PasswordStepOutcome, type SecondFactorMethod } from '../core/policy/second-factor-policy.js';
import type { FactorUse } from '../core/session/session.js';
import type { PendingLogin, SessionType, User } from '../store/store.js';
import { recordEvent } from './audit.js';
import type { AuthDeps, RequestContext } from './deps.js';
import { AppError } from './errors.js';
import { checkFactorAnswer, type FactorAnswer } from './second-factor.js';
import { passkeyError, type PasskeyRefusal } from './webauthn.js';
import { knownDeviceOf } from './known-device.js';
import { issueSession, type IssuedSession } from './sessions.js';
import { assertPlanAllows, passkeySignInPlan } from './phishing-resistant.js';
import { assessSignIn, holdForSecondFactor, secondFactorRisk, signInFailed, signInSucceeded } from './risk/sign-in-risk.js';

export type PasswordStepResult =
  | { state: 'authenticated'; issued: IssuedSession }
  | { state: 'enrollment_required'; issued: IssuedSession }
  | { state: 'second_factor_required'; methods: SecondFactorMethod[]; pendingToken: string; pending: PendingLogin };

const INVALID = 'Invalid username or password.';

/**
 * Step one: the password. Unknown users, disabled users and wrong passwords get the same answer
 * after the same argon2 work (no user enumeration).
 */
export async function signInWithPassword(
  deps: AuthDeps,
  input: { username: string; password: string; sessionType?: SessionType },
  ctx: RequestContext,
): Promise<PasswordStepResult> {
  const username = normalizeUsername(input.username) ?? input.username.slice(0, 64).toLowerCase();
  const user = normalizeUsername(input.username) === null ? undefined : await deps.store.users.findByUsername(username);
  // Counted before argon2 runs (docs/security/brute-force.md); a browser known to the account has its own budget.
  const claim = await deps.throttles.claimPasswordAttempt({ username, ip: ctx.ip, knownDevice: await knownDeviceOf(deps, user, ctx) });

  const passwordOk = user ? await deps.hasher.verify(user.passwordHash, input.password) : await deps.hasher.verifyDummy(input.password);
  if (!user || !passwordOk || user.disabled) {
    await signInFailed(deps, user?.id ?? username, ctx);
    const reason = !user ? 'unknown_user' : !passwordOk ? 'wrong_password' : 'user_disabled';
    await recordEvent(deps, { type: 'login.password', outcome: 'failure', userId: user?.id ?? null, reason }, ctx);
    throw new AppError('invalid_credentials', INVALID);
  }
  await claim.succeeded();

  const now = deps.clock.now();
  const password: FactorUse = { method: 'pwd', at: now };
  const totp = await deps.store.factors.findConfirmedTotp(user.id);
  const passkeys = await deps.store.webauthn.countCredentials(user.id);
  const recoveryCodesLeft = totp || passkeys > 0 ? await deps.store.factors.countRecoveryCodesLeft(user.id) : 0;
  // webauthn.require_for: a passkey (or, without one, its registration) instead of the usual policy.
  const plan = await passkeySignInPlan(deps, user);
  const outcome: PasswordStepOutcome = !plan
    ? afterPassword(
        { totp: totp !== undefined, recoveryCodesLeft, passkeys },
        { requireSecondFactor: deps.config.login.requireSecondFactor },
      )
    : plan.kind === 'register'
      ? { state: 'enrollment_required' }
      : { state: 'second_factor_required', methods: plan.methods };
  await recordEvent(deps, { type: 'login.password', outcome: 'success', userId: user.id, detail: { next: outcome.state } }, ctx);
  // Adaptive authentication (src/auth/risk): may skip, demand a passkey or deny; sets the session's lifetime band.
  const risk = await assessSignIn(deps, user, ctx, outcome, { passkeys });
  // A remembered browser never skips the passkey of a require_for user.
  if (plan && risk.outcome.state === 'authenticated') risk.outcome = outcome;

  switch (risk.outcome.state) {
    case 'authenticated': {
      const issued = await issueSession(deps, user, 'full', [password], ctx, input.sessionType, risk.band, risk.origin);
      await signInSucceeded(deps, user, ctx, risk);
      return { state: 'authenticated', issued };
    }
    case 'enrollment_required':
      return {
        state: 'enrollment_required',
        issued: await issueSession(deps, user, 'enrollment', [password], ctx, 'cookie', undefined, risk.origin),
      };
    case 'second_factor_required': {
      const pendingToken = newSecretToken(deps.random);
      const pending: PendingLogin = {
        id: newRecordId('pnd', deps.random),
        userId: user.id,
        createdAt: now,
        expiresAt: now + deps.config.login.pendingLifetimeMs,
        attempts: 0,
        consumedAt: null,
        ip: ctx.ip,
        userAgent: ctx.userAgent,
        sessionType: input.sessionType ?? 'cookie',
      };
      await deps.store.pendingLogins.create(pending, hashToken(pendingToken));
      holdForSecondFactor(deps, pending.id, risk, pending.expiresAt, ctx);
      return { state: 'second_factor_required', methods: risk.outcome.methods, pendingToken, pending };
    }
  }
}

/**
 * Step two: a code for a pending sign-in. At most `max_code_attempts` tries per pending sign-in,
 * and at most `max_consecutive_factor_failures` for the account (NIST 800-63B §5.2.2), after
 * which the factor is locked until an administrator resets it.
 */
export async function completeSecondFactor(
  deps: AuthDeps,
  input: { pendingToken: string | undefined; rememberDevice?: boolean } & FactorAnswer,
  ctx: RequestContext,
): Promise<IssuedSession> {
  const { pending, user } = await livePendingLogin(deps, input.pendingToken);
  // The per-address cap does not brake a browser known to the account (an attacker may share its address).
  if ((await knownDeviceOf(deps, user, ctx)) === undefined) await deps.throttles.assertCodeAllowed(ctx.ip);
  const { maxCodeAttempts, maxConsecutiveFactorFailures } = deps.config.login;
  if (user.factorFailures >= maxConsecutiveFactorFailures) throw factorLocked();
  // webauthn.require_for: refused before it costs an attempt; the user is told which methods do.
  const plan = await passkeySignInPlan(deps, user);
  assertPlanAllows(plan, input.method);
  const risk = await secondFactorRisk(deps, pending, user, ctx, input.method);
  const attempts = await deps.store.pendingLogins.addAttempt(pending.id);
  if (attempts > maxCodeAttempts) throw tooManyAttempts();
  // Counted before the check (a success resets it): guesses sent at once on many pending sign-ins
  // cannot outrun the lock, so at most max_consecutive_factor_failures codes are ever checked.
  const failures = await deps.store.users.addFactorFailure(user.id);
  if (failures > maxConsecutiveFactorFailures) throw factorLocked();

  const check = await checkFactorAnswer(deps, user, input, { purpose: 'sign_in', boundTo: pending.id }, ctx);
  if (!check.ok) {
    await deps.throttles.codeFailed(ctx.ip);
    await signInFailed(deps, user.id, ctx);
    await recordEvent(
      deps,
      { type: 'login.second_factor', outcome: 'failure', userId: user.id, reason: check.reason, detail: { method: input.method } },
      ctx,
    );
    if (check.reason === 'not_enrolled') throw new AppError('method_not_available', 'That method is not set up for this account.');
    if (failures >= maxConsecutiveFactorFailures) throw factorLocked();
    if (attempts >= maxCodeAttempts) throw tooManyAttempts();
    if (input.method === 'webauthn') throw passkeyError(check.reason as PasskeyRefusal, { attempts_left: maxCodeAttempts - attempts });
    if (check.reason === 'replayed') {
      throw new AppError('code_replayed', 'That code was already used. Wait for the next code.', {
        detail: { attempts_left: maxCodeAttempts - attempts },
      });
    }
    throw new AppError('invalid_code', 'That code is not valid.', { detail: { attempts_left: maxCodeAttempts - attempts } });
  }

  if (!(await deps.store.pendingLogins.consume(pending.id, deps.clock.now()))) throw pendingInvalid();
  await deps.store.users.resetFactorFailures(user.id);
  await recordEvent(deps, { type: 'login.second_factor', outcome: 'success', userId: user.id, detail: { method: input.method } }, ctx);
  const amr: FactorUse[] = [
    { method: 'pwd', at: pending.createdAt },
    { method: check.method, at: deps.clock.now() },
  ];
  // A require_for user without a passkey proved their app code; the session may only register a passkey.
  if (plan?.kind === 'prove_then_register') {
    await signInSucceeded(deps, user, ctx, { ...risk, pendingId: pending.id });
    return issueSession(deps, user, 'enrollment', amr, ctx);
  }
  const issued = await issueSession(deps, user, 'full', amr, ctx, pending.sessionType ?? 'cookie', risk?.band, risk?.origin);
  await signInSucceeded(deps, user, ctx, { ...risk, pendingId: pending.id }, { rememberDevice: input.rememberDevice });
  return issued;
}

/** The pending sign-in behind a cookie, if it is unexpired, unused and its user still active. */
export async function livePendingLogin(deps: AuthDeps, token: string | undefined): Promise<{ pending: PendingLogin; user: User }> {
  if (!token || !looksLikeSecretToken(token)) throw pendingInvalid();
  const pending = await deps.store.pendingLogins.findByTokenHash(hashToken(token));
  if (!pending || pending.consumedAt !== null || deps.clock.now() >= pending.expiresAt) throw pendingInvalid();
  if (pending.attempts >= deps.config.login.maxCodeAttempts) throw tooManyAttempts();
  const user = await deps.store.users.findById(pending.userId);
  if (!user || user.disabled) throw pendingInvalid();
  return { pending, user };
}

const pendingInvalid = () => new AppError('pending_login_invalid', 'This sign-in has expired or was already used. Please sign in again.');
const factorLocked = () =>
  new AppError('factor_locked', 'Too many failed codes for this account. An administrator must reset its second factor.');
const tooManyAttempts = () => new AppError('too_many_attempts', 'Too many wrong codes for this sign-in. Please sign in again.');
