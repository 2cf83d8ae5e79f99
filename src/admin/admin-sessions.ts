import type { AuthDeps, RequestContext } from '../auth/deps.js';
import { AppError } from '../auth/errors.js';
import { revokeOtherSessions, revokeSession } from '../auth/sessions.js';
import type { SessionId } from '../core/ids.js';
import type { RiskBand } from '../core/risk/policy.js';
import type { Session } from '../core/session/session.js';
import type { User } from '../store/store.js';
import { findUser, resolveUser } from './admin-users.js';

/** Recorded on the session and in the audit trail, as the CLI does. */
export const REVOKED_BY_ADMIN = 'revoked_by_admin';

export interface SessionFilter {
  /** Username or user id. */
  user?: string;
  /** Exact address or a prefix ending in "*". */
  ip?: string;
  /** ISO country code of the sign-in that opened the session, any case ("pt"). */
  country?: string;
  /** The sign-in's network: an AS number, with or without "AS" ("AS29695", "29695"). */
  network?: string;
  /** Risk bands the sign-in was judged in. */
  risk?: RiskBand[];
  limit?: number;
}

/** "AS29695", "as29695" or "29695" → "29695"; anything else is not an AS number. */
export function asnOf(network: string): string | null {
  const match = /^(?:as)?(\d{1,10})$/i.exec(network.trim());
  return match ? match[1]! : null;
}

export interface AdminSessionList {
  sessions: Session[];
  users: Map<string, User>;
}

export async function searchSessions(deps: AuthDeps, filter: SessionFilter): Promise<AdminSessionList> {
  let userId: User['id'] | undefined;
  if (filter.user) {
    const user = await resolveUser(deps, filter.user);
    if (!user) return { sessions: [], users: new Map() };
    userId = user.id;
  }
  let asn: string | undefined;
  if (filter.network) {
    const parsed = asnOf(filter.network);
    if (parsed === null) throw new AppError('bad_request', 'network: give an AS number, such as AS29695.');
    asn = parsed;
  }
  const sessions = await deps.store.admin.searchSessions(deps.clock.now(), {
    userId,
    ip: filter.ip,
    country: filter.country?.toUpperCase(),
    asn,
    riskBands: filter.risk,
    limit: filter.limit ?? 200,
  });
  const users = new Map<string, User>();
  for (const id of new Set(sessions.map((s) => s.userId))) {
    const user = await deps.store.users.findById(id);
    if (user) users.set(id, user);
  }
  return { sessions, users };
}

/** Ends one session of anyone; the cache-evicting store makes it stop working at once. */
export async function revokeAnySession(deps: AuthDeps, id: string, ctx: RequestContext): Promise<Session> {
  const session = await deps.store.sessions.findById(id as SessionId);
  if (!session) throw new AppError('not_found', 'No such session.');
  await revokeSession(deps, session, REVOKED_BY_ADMIN, ctx);
  return session;
}

/** Ends every live session of a user; returns how many. */
export async function revokeUserSessions(deps: AuthDeps, userId: string, ctx: RequestContext): Promise<number> {
  const user = await findUser(deps, userId);
  return revokeOtherSessions(deps, user, null, REVOKED_BY_ADMIN, ctx);
}

/**
 * Ends every live session of every user (ASVS 5.0 V7.4.5), e.g. after a suspected breach; returns
 * how many. Each user's sessions end in one write, recorded in that user's audit trail.
 */
export async function revokeEverySession(deps: AuthDeps, ctx: RequestContext | null): Promise<number> {
  let count = 0;
  for (const user of await deps.store.users.list()) count += await revokeOtherSessions(deps, user, null, REVOKED_BY_ADMIN, ctx);
  return count;
}
