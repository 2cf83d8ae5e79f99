import type { StepUpChallenge } from './errors.js';
import type { TwofoldIdentity } from './identity.js';

/** What a route demands of the session before it runs ("sudo mode"). */
export interface StepUpOptions {
  /** Seconds: a factor must have been proven this recently. */
  maxAge?: number;
  /** Lowest acceptable assurance level. */
  minAal?: 1 | 2;
  /** A passkey or security key (WebAuthn) must have been used. */
  phishingResistant?: boolean;
}

/** RFC 8176 names of phishing-resistant methods, as twofold's step-up policy counts them. */
const PHISHING_RESISTANT: ReadonlySet<string> = new Set(['hwk', 'swk']);

/** The factors twofold steps up with; offline the SDK cannot know which of them a user has set up. */
const ALL_METHODS = ['totp', 'webauthn', 'recovery_code'];

/**
 * The offline judgement, from the access token's claims alone and in the order twofold's policy
 * uses (src/core/policy/step-up-policy.ts): level, then kind of factor, then age. The token carries
 * one `auth_time` (its newest factor), not each factor's time, so for `phishingResistant` with
 * `maxAge` the age judged is that of the newest factor, which twofold judges more precisely online.
 * Null when the identity meets the requirement.
 */
export function judgeStepUpOffline(
  identity: Pick<TwofoldIdentity, 'aal' | 'amr' | 'authTime'>,
  requirement: StepUpOptions,
  nowMs: number,
): Omit<StepUpChallenge, 'endpoint'> | null {
  const maxAgeS = requirement.maxAge ?? null;
  const phishingResistant = requirement.phishingResistant === true;
  const methods = phishingResistant ? ['webauthn'] : ALL_METHODS;
  if (requirement.minAal !== undefined && identity.aal < requirement.minAal) return { reason: 'aal', methods, max_age_s: maxAgeS };
  if (phishingResistant && !identity.amr.some((method) => PHISHING_RESISTANT.has(method))) {
    return { reason: 'phishing_resistant', methods, max_age_s: maxAgeS };
  }
  if (maxAgeS !== null && nowMs - identity.authTime.getTime() > maxAgeS * 1000) return { reason: 'stale', methods, max_age_s: maxAgeS };
  return null;
}
