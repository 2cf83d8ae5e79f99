import { judgeStepUp, type StepUpDecision, type StepUpRequirement } from '../policy/step-up-policy.js';
import type { Session } from '../session/session.js';

/**
 * The console shows every user's activity and can end anyone's session, so it asks for more than a
 * signed-in administrator: a two-factor session whose second factor was proven recently ("sudo
 * mode"), judged by the one step-up rule every sensitive action uses (core/policy/step-up-policy.ts)
 * with the configured session.sensitive_max_age (10 minutes by default).
 */
export const adminRequirement = (sensitiveMaxAgeMs: number, phishingResistant = false): StepUpRequirement => ({
  minAal: 2,
  maxAuthAgeMs: sensitiveMaxAgeMs,
  // webauthn.require_for: the fresh factor must be a passkey or security key.
  ...(phishingResistant ? { phishingResistant: true } : {}),
});

export type AdminAccess =
  { kind: 'allowed' } | { kind: 'not_admin' } | { kind: 'step_up_required'; decision: Exclude<StepUpDecision, { kind: 'satisfied' }> };

export function adminAccess(
  isAdmin: boolean,
  session: Session,
  now: number,
  sensitiveMaxAgeMs: number,
  phishingResistant = false,
): AdminAccess {
  if (!isAdmin) return { kind: 'not_admin' };
  const decision = judgeStepUp(session, adminRequirement(sensitiveMaxAgeMs, phishingResistant), now);
  return decision.kind === 'satisfied' ? { kind: 'allowed' } : { kind: 'step_up_required', decision };
}
