import type { UserId } from '../core/ids.js';
import type { LoginContext } from '../core/risk/context.js';
import type { RiskBand } from '../core/risk/policy.js';
import type { Session } from '../core/session/session.js';
import type { AuditEvent, EventOutcome, User } from './store.js';

/**
 * Read-only questions the admin console asks across users: searching the audit trail, counting
 * sign-ins over time, finding sessions. Kept apart from the per-aggregate stores the use cases write
 * through, so the hot paths never grow an admin index or a wider query.
 */

/** A filter on the audit trail. `types` entries ending in ".*" match a prefix ("login.*"). */
export interface EventQuery {
  types?: string[];
  userId?: UserId;
  ip?: string;
  outcome?: EventOutcome;
  /** Inclusive lower bound of `at` (ms). */
  since?: number;
  /** Exclusive upper bound of `at` (ms). */
  until?: number;
  /** Cursor: events with a lower id (newest first). */
  beforeId?: number;
  limit: number;
}

/** How many events of one kind fell into one time bucket. */
export interface EventTally {
  /** Start of the bucket, ms since the epoch. */
  bucketStart: number;
  type: string;
  outcome: EventOutcome;
  reason: string | null;
  /** Only `next` (what a sign-in step led to) is kept of the detail. */
  detail: { next: string } | null;
  count: number;
}

export interface TallyQuery {
  types: string[];
  since: number;
  until: number;
  bucketMs: number;
}

export interface SessionQuery {
  userId?: UserId;
  /** Exact address, or a prefix when it ends in "*" ("203.0.113.*"). */
  ip?: string;
  /** ISO country code of the opening sign-in (session origin, migration 005). */
  country?: string;
  /** Autonomous system number, digits only ("29695"). */
  asn?: string;
  /** Any of these risk bands. */
  riskBands?: RiskBand[];
  limit: number;
}

export interface AdminQueryStore {
  searchEvents(query: EventQuery): Promise<AuditEvent[]>;
  tallyEvents(query: TallyQuery): Promise<EventTally[]>;
  /** Users whose username or display name contains `text` (all when empty), by username. */
  searchUsers(text: string, limit: number): Promise<User[]>;
  countActiveSessions(now: number): Promise<number>;
  /** Live sessions (neither revoked nor expired at `now`), newest first. */
  searchSessions(now: number, query: SessionQuery): Promise<Session[]>;
  /** One user's successful sign-ins as the risk engine stored them (login_history), newest first. */
  userSignIns(userId: UserId, limit: number): Promise<LoginContext[]>;
}
