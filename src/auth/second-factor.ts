import { verifyTotp, type TotpParams } from '../core/factors/totp.js';
import { hashRecoveryCode, normalizeRecoveryCode } from '../core/factors/recovery-codes.js';
import type { SecondFactorMethod } from '../core/policy/second-factor-policy.js';
import type { AuthMethod } from '../core/session/session.js';
import type { TotpFactor, User } from '../store/store.js';
import type { AuthDeps } from './deps.js';

export type FactorCheck = { ok: true; method: AuthMethod } | { ok: false; reason: 'malformed' | 'invalid' | 'replayed' | 'not_enrolled' };

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
export async function verifySecondFactor(deps: AuthDeps, user: User, method: SecondFactorMethod, code: string): Promise<FactorCheck> {
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
