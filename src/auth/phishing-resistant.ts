import {
  allowedSignInMethod,
  mustUsePhishingResistant,
  phishingResistantSignIn,
  type PhishingResistantSignIn,
} from '../core/policy/phishing-resistant-policy.js';
import type { SecondFactorMethod } from '../core/policy/second-factor-policy.js';
import type { User } from '../store/store.js';
import type { AuthDeps } from './deps.js';
import { AppError } from './errors.js';
import { groupsOf } from './gate.js';

/** Whether config webauthn.require_for names this user (directly or by a group). */
export const mustUsePasskey = (deps: AuthDeps, user: User): boolean =>
  mustUsePhishingResistant(deps.config.webauthn.requireFor, { username: user.username, groups: groupsOf(user) });

/** The sign-in plan of a require_for user, from what they have set up; undefined for everyone else. */
export async function passkeySignInPlan(deps: AuthDeps, user: User): Promise<PhishingResistantSignIn | undefined> {
  if (!mustUsePasskey(deps, user)) return undefined;
  const passkeys = await deps.store.webauthn.countCredentials(user.id);
  const totp = (await deps.store.factors.findConfirmedTotp(user.id)) !== undefined;
  const recoveryCodesLeft = passkeys > 0 || totp ? await deps.store.factors.countRecoveryCodesLeft(user.id) : 0;
  return phishingResistantSignIn({ passkeys, totp, recoveryCodesLeft });
}

/** Refuses a second-factor method the plan does not allow (an app code when the user has a passkey). */
export function assertPlanAllows(plan: PhishingResistantSignIn | undefined, method: SecondFactorMethod): void {
  if (!plan || allowedSignInMethod(plan, method)) return;
  throw new AppError(
    'phishing_resistant_required',
    'Your account must sign in with a passkey or security key. Lost it? Use a recovery code, then add a new passkey.',
    { detail: { methods: plan.kind === 'register' ? [] : plan.methods } },
  );
}

/** The refusal of TOTP enrollment in a session that exists to register a passkey. */
export const passkeyEnrollmentOnly = (): AppError =>
  new AppError('phishing_resistant_required', 'Your account must use a passkey or security key: register one to continue.', {
    detail: { next: '/api/v1/factors/webauthn/registration/options' },
  });
