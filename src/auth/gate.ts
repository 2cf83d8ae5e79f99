import { compileAccessRules, evaluateAccess, type CompiledAccessRules } from '../core/access/access-rules.js';
import { decideGate, type GateOutcome } from '../core/access/gate.js';
import type { Session } from '../core/session/session.js';
import type { User } from '../store/store.js';
import type { AuthDeps } from './deps.js';
import { authenticateCredential } from './credentials.js';

/** The request a proxy asks about: what the user asked of the protected app. */
export interface ProtectedRequest {
  host: string;
  path: string;
  method: string;
  ip: string;
}

export interface GateResult {
  outcome: GateOutcome;
  /** Present when a live session came with the request. */
  identity?: { session: Session; user: User };
}

/** Groups a user belongs to, as access rules and Remote-Groups see them. */
export const groupsOf = (user: User): string[] => (user.isAdmin ? ['admins'] : []);

export interface Gate {
  check(token: string | undefined, request: ProtectedRequest): Promise<GateResult>;
}

/** Rules are compiled once; each check is a session lookup (usually cached) and a pure decision. */
export function createGate(deps: AuthDeps): Gate {
  const rules: CompiledAccessRules = compileAccessRules(deps.config.accessRules, deps.config.defaultPolicy);
  return {
    async check(token, request) {
      const auth = token === undefined ? undefined : await authenticateCredential(deps, token);
      const identity = auth?.kind === 'authenticated' ? { session: auth.session, user: auth.user } : undefined;
      const subject = identity ? { username: identity.user.username, groups: groupsOf(identity.user) } : undefined;
      const access = evaluateAccess(rules, { host: request.host, path: request.path, method: request.method, ip: request.ip, subject });
      return { outcome: decideGate(access, identity?.session ?? null, deps.clock.now()), identity };
    },
  };
}
