import { verifyTotp, type TotpParams } from '../core/factors/totp.js';
import { hashRecoveryCode, normalizeRecoveryCode } from '../core/factors/recovery-codes.js';
import type { CodeMethod } from '../core/policy/second-factor-policy.js';
import type { AuthMethod } from '../core/session/session.js';
import type { TotpFactor, User } from '../store/store.js';
import type { AuthDeps, RequestContext } from './deps.js';
import { verifyPasskeyAssertion, type PasskeyAssertion, type PasskeyRefusal } from './webauthn.js';

export type FactorCheck =
  { ok: true; method: AuthMethod } | { ok: false; reason: 'malformed' | 'invalid' | 'replayed' | 'not_enrolled' | PasskeyRefusal };

/** An answer to a second-factor challenge: a typed code, or a passkey's signed assertion. */
export type FactorAnswer = { method: CodeMethod; code: string } | { method: 'webauthn'; response: PasskeyAssertion };

export const totpParamsOf = (factor: TotpFactor): TotpParams => ({
  algorithm: factor.algorithm,
  digits: factor.digits,
  period: factor.period,
});

/** Opens a sealed TOTP secret; the factor id is the associated data, so a secret moved to another row does not open. */
export const openTotpSecret = (deps: AuthDeps, factor: TotpFactor): Buffer => deps.secretBox.open(factor.secretSealed, factor.id);

/**
 * Verifies a second factor for a user. A TOTP step is claimed atomically in the store, so a code
 * is good once even when two requests race; a recovery code is consumed by the same kind of write.
 */
export async function verifySecondFactor(deps: AuthDeps, user: User, method: CodeMethod, code: string): Promise<FactorCheck> {
  const now = deps.clock.now();
  if (method === 'totp') {
    const factor = await deps.store.factors.findConfirmedTotp(user.id);
    if (!factor) return { ok: false, reason: 'not_enrolled' };
    const result = verifyTotp({
      secret: openTotpSecret(deps, factor),
      code,
      nowMs: now,
      params: totpParamsOf(factor),
      window: deps.config.totp.window,
      lastUsedStep: factor.lastUsedStep,
    });
    if (!result.ok) return result;
    if (!(await deps.store.factors.claimTotpStep(factor.id, result.step))) return { ok: false, reason: 'replayed' };
    return { ok: true, method: 'otp' };
  }
  const normalized = normalizeRecoveryCode(code);
  if (normalized === null) return { ok: false, reason: 'malformed' };
  const used = await deps.store.factors.useRecoveryCode(user.id, hashRecoveryCode(normalized, deps.recoveryPepper), now);
  return used ? { ok: true, method: 'rc' } : { ok: false, reason: 'invalid' };
}

/**
 * Checks any answer: a code by verifySecondFactor, a passkey assertion against the challenge issued
 * for this pending sign-in or session (`binding`).
 */
export async function checkFactorAnswer(
  deps: AuthDeps,
  user: User,
  answer: FactorAnswer,
  binding: { purpose: 'sign_in' | 'step_up'; boundTo: string },
  ctx: RequestContext,
): Promise<FactorCheck> {
  if (answer.method !== 'webauthn') return verifySecondFactor(deps, user, answer.method, answer.code);
  if ((await deps.store.webauthn.countCredentials(user.id)) === 0) return { ok: false, reason: 'not_enrolled' };
  const check = await verifyPasskeyAssertion(deps, user, binding, answer.response, ctx);
  return check.ok ? { ok: true, method: 'hwk' } : check;
}
