import type { Aal, AuthMethod, Session } from '../session/session.js';

/**
 * What an action or an app asks of a session before it goes ahead ("sudo mode"): a factor proven
 * recently enough, an assurance level, or a phishing-resistant factor. Any field left out is not asked.
 */
export interface StepUpRequirement {
  /** A factor must have been proven within this many milliseconds. */
  maxAuthAgeMs?: number;
  minAal?: Aal;
  /** A factor that cannot be phished (WebAuthn, NIST 800-63B §3.2.5) must have been used. */
  phishingResistant?: boolean;
}

export type StepUpDecision =
  { kind: 'satisfied' } | { kind: 'step_up_required'; reason: 'aal' | 'phishing_resistant' | 'stale'; maxAuthAgeMs?: number };

/** RFC 8176 names of phishing-resistant methods: hardware- and software-bound keys (WebAuthn). */
const PHISHING_RESISTANT: ReadonlySet<string> = new Set(['hwk', 'swk']);

/**
 * When the session last proved the factor its assurance rests on: at AAL2 the second factor (a
 * password typed again proves nothing an attacker at the keyboard would not know), at AAL1 any
 * factor. `justProven` counts factors verified by the request itself (a current password re-typed).
 */
export function lastProofAt(
  session: Pick<Session, 'aal' | 'amr'>,
  justProven: readonly { method: AuthMethod; at: number }[] = [],
  phishingResistantOnly = false,
): number {
  let latest = 0;
  for (const use of [...session.amr, ...justProven]) {
    if (session.aal >= 2 && use.method === 'pwd') continue;
    if (phishingResistantOnly && !PHISHING_RESISTANT.has(use.method)) continue;
    if (use.at > latest) latest = use.at;
  }
  return latest;
}

/**
 * The one place step-up freshness is decided. Level first (stepping up with the same factor
 * cannot raise it), then the kind of factor, then its age.
 */
export function judgeStepUp(
  session: Pick<Session, 'aal' | 'amr'>,
  requirement: StepUpRequirement,
  now: number,
  justProven: readonly { method: AuthMethod; at: number }[] = [],
): StepUpDecision {
  const { maxAuthAgeMs } = requirement;
  const withAge = maxAuthAgeMs === undefined ? {} : { maxAuthAgeMs };
  if (requirement.minAal !== undefined && session.aal < requirement.minAal) return { kind: 'step_up_required', reason: 'aal', ...withAge };
  if (requirement.phishingResistant && !session.amr.some((use) => PHISHING_RESISTANT.has(use.method))) {
    return { kind: 'step_up_required', reason: 'phishing_resistant', ...withAge };
  }
  // When a phishing-resistant factor is asked for, it is that factor which must be recent.
  if (maxAuthAgeMs !== undefined && now - lastProofAt(session, justProven, requirement.phishingResistant === true) > maxAuthAgeMs) {
    return { kind: 'step_up_required', reason: 'stale', maxAuthAgeMs };
  }
  return { kind: 'satisfied' };
}
