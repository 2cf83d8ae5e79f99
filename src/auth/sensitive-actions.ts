import { judgeStepUp, type StepUpDecision, type StepUpRequirement } from '../core/policy/step-up-policy.js';
import type { AuthMethod, Session } from '../core/session/session.js';
import type { User } from '../store/store.js';
import type { AuthDeps } from './deps.js';
import { AppError } from './errors.js';
import { passkeySignInPlan } from './phishing-resistant.js';

/** The ways a user can step up, as POST /api/v1/session/step-up names them. */
export type StepUpMethod = 'totp' | 'recovery_code' | 'webauthn';

/**
 * Which step-up methods this user has set up; a phishing-resistant requirement leaves only passkeys.
 * A webauthn.require_for user steps up as they sign in (phishing-resistant.ts): no app code once a passkey exists.
 */
export async function stepUpMethodsOf(deps: AuthDeps, user: User, requirement: StepUpRequirement = {}): Promise<StepUpMethod[]> {
  const passkeys = (await deps.store.webauthn?.countCredentials(user.id)) ?? 0;
  if (requirement.phishingResistant) return passkeys > 0 ? ['webauthn'] : [];
  const plan = await passkeySignInPlan(deps, user);
  if (plan) return plan.kind === 'register' ? [] : plan.methods;
  const methods: StepUpMethod[] = [];
  if (await deps.store.factors.findConfirmedTotp(user.id)) methods.push('totp');
  if (passkeys > 0) methods.push('webauthn');
  if (methods.length > 0 && (await deps.store.factors.countRecoveryCodesLeft(user.id)) > 0) methods.push('recovery_code');
  return methods;
}

const MESSAGES: Record<Exclude<StepUpDecision, { kind: 'satisfied' }>['reason'], string> = {
  stale: 'This needs a recent second factor: confirm it is you first.',
  aal: 'This needs a session signed in with two factors.',
  phishing_resistant: 'This needs a passkey or security key.',
};

/**
 * The machine-readable refusal: 401 step_up_required with which factors would do and how fresh
 * they must be, so a client can step up (POST /api/v1/session/step-up) and retry.
 */
export async function stepUpRequired(
  deps: AuthDeps,
  user: User,
  decision: Exclude<StepUpDecision, { kind: 'satisfied' }>,
  requirement: StepUpRequirement,
): Promise<AppError> {
  const methods = await stepUpMethodsOf(deps, user, requirement);
  return new AppError('step_up_required', MESSAGES[decision.reason], {
    detail: {
      step_up: {
        reason: decision.reason,
        methods,
        max_age_s: decision.maxAuthAgeMs === undefined ? null : Math.floor(decision.maxAuthAgeMs / 1000),
        endpoint: '/api/v1/session/step-up',
      },
    },
  });
}

/** Refuses unless the session meets the requirement. */
export async function assertStepUp(
  deps: AuthDeps,
  user: User,
  session: Session,
  requirement: StepUpRequirement,
  justProven: { method: AuthMethod; at: number }[] = [],
): Promise<void> {
  const decision = judgeStepUp(session, requirement, deps.clock.now(), justProven);
  if (decision.kind === 'step_up_required') throw await stepUpRequired(deps, user, decision, requirement);
}

/** Whether the user has a second factor to step up with (authenticator app or passkey). */
export async function hasSecondFactor(deps: AuthDeps, user: User): Promise<boolean> {
  return (await stepUpMethodsOf(deps, user)).length > 0;
}

/**
 * twofold's own sensitive actions (password, factors, recovery codes, trusted devices, admin) need a
 * factor proven within session.sensitive_max_age (ASVS 5.0 V7.5.1/V7.5.3). An account that has a
 * second factor changes them only from a two-factor session: a one-factor session (a remembered
 * device that skipped the second factor) must step up first, or it could mint itself a factor.
 * `justProven` counts a factor the request itself verified, e.g. the current password for a
 * one-factor account.
 */
export async function assertRecentAuthentication(
  deps: AuthDeps,
  user: User,
  session: Session,
  justProven: { method: AuthMethod; at: number }[] = [],
): Promise<void> {
  const minAal = (await hasSecondFactor(deps, user)) ? { minAal: 2 as const } : {};
  return assertStepUp(deps, user, session, { maxAuthAgeMs: deps.config.session.sensitiveMaxAgeMs, ...minAal }, justProven);
}
