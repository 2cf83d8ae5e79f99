import { compileAccessRules, evaluateAccess, type CompiledAccessRules } from '../core/access/access-rules.js';
import { decideGate, type GateOutcome } from '../core/access/gate.js';
import type { Session } from '../core/session/session.js';
import type { User } from '../store/store.js';
import type { AuthDeps } from './deps.js';
import { authenticateCredential, type CredentialAuthentication } from './credentials.js';
import { checkContinuity, type ContinuityOutcome } from './session-continuity.js';

/** The request a proxy asks about: what the user asked of the protected app. */
export interface ProtectedRequest {
  host: string;
  path: string;
  method: string;
  ip: string;
  /** The browser's User-Agent as the proxy passed it on: given, the session's context is evaluated (continuous evaluation). */
  userAgent?: string;
}

export interface GateResult {
  outcome: GateOutcome;
  /** Present when a live session came with the request. */
  identity?: { session: Session; user: User };
}

/** Groups a user belongs to, as access rules and Remote-Groups see them. */
export const groupsOf = (user: User): string[] => (user.isAdmin ? ['admins'] : []);

export interface Gate {
  /**
   * Synchronous when nothing needs waiting for (a cached session, a touch at most queued, the same address
   * and browser): every request of every protected app comes here, and a promise per step of the
   * way was a measurable part of a check (bench/README.md). Otherwise a promise.
   */
  check(token: string | undefined, request: ProtectedRequest): GateResult | Promise<GateResult>;
}

/** Rules are compiled once; each check is a session lookup (usually cached) and a pure decision. */
export function createGate(deps: AuthDeps): Gate {
  const rules: CompiledAccessRules = compileAccessRules(deps.config.accessRules, deps.config.defaultPolicy);

  const decide = (identity: GateResult['identity'], drift: ContinuityOutcome | undefined, request: ProtectedRequest): GateResult => {
    if (drift?.kind === 'revoked') identity = undefined;
    const subject = identity ? { username: identity.user.username, groups: groupsOf(identity.user) } : undefined;
    const access = evaluateAccess(rules, { host: request.host, path: request.path, method: request.method, ip: request.ip, subject });
    const outcome = decideGate(access, identity?.session ?? null, deps.clock.now());
    // A new network or country mid-session: whatever the rule, a session must step up before it continues.
    if (drift?.kind === 'step_up' && outcome.kind === 'allow' && outcome.authenticated && access.policy !== 'bypass') {
      return { outcome: { kind: 'step_up', reason: 'context_changed' }, identity };
    }
    return { outcome, identity };
  };

  const checkAuthenticated = (auth: CredentialAuthentication | undefined, request: ProtectedRequest): GateResult | Promise<GateResult> => {
    const identity = auth?.kind === 'authenticated' ? { session: auth.session, user: auth.user } : undefined;
    // Continuous evaluation; the portal's device cookie does not reach the gate (other hosts), so it is not compared here.
    const checked =
      identity && request.userAgent !== undefined
        ? checkContinuity(deps, identity.session, identity.user, { ctx: { ip: request.ip, userAgent: request.userAgent } })
        : undefined;
    // Synchronous in the common case (same address and browser): waited for only when it drifted.
    return checked instanceof Promise ? checked.then((drift) => decide(identity, drift, request)) : decide(identity, checked, request);
  };

  return {
    check(token, request) {
      const auth = token === undefined ? undefined : authenticateCredential(deps, token);
      return auth instanceof Promise ? auth.then((found) => checkAuthenticated(found, request)) : checkAuthenticated(auth, request);
    },
  };
}
