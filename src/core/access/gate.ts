import type { Session } from '../session/session.js';
import type { AccessDecision } from './access-rules.js';

/** What the gate answers a protected request. */
export type GateOutcome =
  | { kind: 'allow'; authenticated: boolean }
  | { kind: 'sign_in' }
  /** Signed in, but a (fresh) second factor is needed first. */
  /** 'context_changed': the session's network or country changed since sign-in (core/session/continuity.ts). */
  | { kind: 'step_up'; reason: 'second_factor' | 'stale' | 'context_changed'; maxAuthAgeMs?: number }
  | { kind: 'deny' };

/** When the session last proved a factor of the kind the policy asks for. */
function lastProofAt(session: Session, secondFactorOnly: boolean): number {
  let latest = 0;
  for (const use of session.amr) if ((!secondFactorOnly || use.method !== 'pwd') && use.at > latest) latest = use.at;
  return latest;
}

/**
 * The gate's rule, in one place: bypass lets anyone through, deny stops everyone, one_factor needs a
 * full session, two_factor an AAL2 one; max_auth_age further needs a recent enough proof.
 * An enrollment session (password only, factor still to set up) passes nothing but bypass.
 */
export function decideGate(access: AccessDecision, session: Session | null, now: number): GateOutcome {
  if (access.policy === 'bypass' && !access.identityRequired) return { kind: 'allow', authenticated: session !== null };
  if (!session || session.kind !== 'full')
    return access.policy === 'deny' && !access.identityRequired ? { kind: 'deny' } : { kind: 'sign_in' };
  switch (access.policy) {
    case 'deny':
      return { kind: 'deny' };
    case 'bypass':
      return { kind: 'allow', authenticated: true };
    case 'two_factor':
      if (session.aal < 2) return { kind: 'step_up', reason: 'second_factor', maxAuthAgeMs: access.maxAuthAgeMs };
      break;
    case 'one_factor':
      break;
  }
  if (access.maxAuthAgeMs !== undefined && now - lastProofAt(session, access.policy === 'two_factor') > access.maxAuthAgeMs) {
    return { kind: 'step_up', reason: 'stale', maxAuthAgeMs: access.maxAuthAgeMs };
  }
  return { kind: 'allow', authenticated: true };
}
