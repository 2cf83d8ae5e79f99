import type { AuthDeps } from '../auth/deps.js';
import { AppError } from '../auth/errors.js';
import { baselineFromHistory, behaviourBaseline, type BehaviourBaseline } from '../core/admin/behaviour-baseline.js';
import { riskDecisionOf, RISK_EVENT_TYPE, type RiskDecision } from '../core/admin/risk-summary.js';
import { SIGN_IN_EVENT_TYPES } from '../core/admin/sign-in-outcomes.js';
import type { UserId } from '../core/ids.js';
import type { Session } from '../core/session/session.js';
import type { AuditEvent, User } from '../store/store.js';

/** How much of a user's history (sign-ins or audit events) the baseline is built from. */
const BASELINE_EVENTS = 2000;

export interface UserFactors {
  totp: { confirmedAt: number } | null;
  recoveryCodesLeft: number;
  /** Consecutive failed codes; at the configured maximum the factor is locked. */
  factorFailures: number;
  locked: boolean;
}

/** A browser the user chose to remember (the risk engine may skip its second factor), as listed. */
export interface RememberedDevice {
  label: string;
  ip: string;
  location: string;
  lastUsedAt: number;
  expiresAt: number;
}

export interface UserDetail {
  user: User;
  factors: UserFactors;
  trustedDevices: RememberedDevice[];
  sessions: Session[];
  events: AuditEvent[];
  baseline: BehaviourBaseline;
  riskDecisions: RiskDecision[];
}

export async function searchUsers(deps: AuthDeps, text: string, limit = 100): Promise<User[]> {
  return deps.store.admin.searchUsers(text, limit);
}

export async function findUser(deps: AuthDeps, id: string): Promise<User> {
  const user = await deps.store.users.findById(id as UserId);
  if (!user) throw new AppError('not_found', 'No such user.');
  return user;
}

/** Finds a user by id or username (the console's filters accept either). */
export async function resolveUser(deps: AuthDeps, idOrName: string): Promise<User | undefined> {
  return (await deps.store.users.findById(idOrName as UserId)) ?? (await deps.store.users.findByUsername(idOrName.toLowerCase()));
}

export async function userDetail(deps: AuthDeps, id: string, describeDevice: (userAgent: string) => string): Promise<UserDetail> {
  const user = await findUser(deps, id);
  const [totp, recoveryCodesLeft, sessions, events, history, riskEvents, trusted, signIns] = await Promise.all([
    deps.store.factors.findConfirmedTotp(user.id),
    deps.store.factors.countRecoveryCodesLeft(user.id),
    deps.store.sessions.listActive(deps.clock.now(), { userId: user.id }),
    deps.store.events.list({ userId: user.id, limit: 50 }),
    deps.store.admin.searchEvents({ types: SIGN_IN_EVENT_TYPES, userId: user.id, limit: BASELINE_EVENTS }),
    deps.store.admin.searchEvents({ types: [RISK_EVENT_TYPE], userId: user.id, limit: 20 }),
    deps.store.trustedDevices.listActive(user.id, deps.clock.now()),
    deps.store.admin.userSignIns(user.id, BASELINE_EVENTS),
  ]);
  return {
    user,
    factors: {
      totp: totp ? { confirmedAt: totp.confirmedAt ?? totp.createdAt } : null,
      recoveryCodesLeft,
      factorFailures: user.factorFailures,
      locked: user.factorFailures >= deps.config.login.maxConsecutiveFactorFailures,
    },
    trustedDevices: trusted.map((d) => ({
      label: d.label,
      ip: d.ip,
      location: d.location,
      lastUsedAt: d.lastUsedAt,
      expiresAt: d.expiresAt,
    })),
    sessions,
    events,
    // The risk engine's geo-located history where it has any; the audit trail otherwise (risk off, older sign-ins).
    baseline: signIns.length ? baselineFromHistory(signIns, describeDevice) : behaviourBaseline(history, describeDevice),
    riskDecisions: riskEvents.map(riskDecisionOf).filter((d) => d !== null),
  };
}
