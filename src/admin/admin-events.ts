import type { AuthDeps } from '../auth/deps.js';
import { csvHeader, csvRow, jsonLine, type ExportedEvent, type ExportFormat } from '../core/admin/event-records.js';
import type { EventQuery } from '../store/admin-queries.js';
import type { UserId } from '../core/ids.js';
import type { AuditEvent } from '../store/store.js';
import { resolveUser } from './admin-users.js';

/** The console's event filter as typed by an operator: a user by name or id, times as ms. */
export interface EventFilterInput {
  types?: string[];
  user?: string;
  ip?: string;
  outcome?: EventQuery['outcome'];
  since?: number;
  until?: number;
}

const PAGE = 500;

/** Null when the filter names a user that does not exist (nothing can match). */
export async function toEventQuery(deps: AuthDeps, filter: EventFilterInput): Promise<Omit<EventQuery, 'limit'> | null> {
  let userId;
  if (filter.user) {
    const user = await resolveUser(deps, filter.user);
    if (!user) return null;
    userId = user.id;
  }
  return { types: filter.types, userId, ip: filter.ip, outcome: filter.outcome, since: filter.since, until: filter.until };
}

export interface EventPage {
  events: AuditEvent[];
  /** Pass as `before` for the next (older) page; null on the last page. */
  nextCursor: number | null;
}

export async function searchEvents(deps: AuthDeps, filter: EventFilterInput, limit: number, before?: number): Promise<EventPage> {
  const query = await toEventQuery(deps, filter);
  if (!query) return { events: [], nextCursor: null };
  const events = await deps.store.admin.searchEvents({ ...query, beforeId: before, limit: limit + 1 });
  const page = events.slice(0, limit);
  return { events: page, nextCursor: events.length > limit ? page[page.length - 1]!.id! : null };
}

/** The usernames of the users a page of events concerns. */
export async function usernamesOf(deps: AuthDeps, events: AuditEvent[]): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const id of new Set(events.map((e) => e.userId).filter((id) => id !== null))) {
    const user = await deps.store.users.findById(id);
    if (user) names.set(id, user.username);
  }
  return names;
}

/** Usernames for the export, looked up once per user. */
function usernames(deps: AuthDeps): (id: string | null) => Promise<string | null> {
  const known = new Map<string, string | null>();
  return async (id) => {
    if (!id) return null;
    if (!known.has(id)) known.set(id, (await deps.store.users.findById(id as UserId))?.username ?? null);
    return known.get(id)!;
  };
}

export function toExported(event: AuditEvent, username: string | null): ExportedEvent {
  return {
    id: event.id!,
    at: new Date(event.at).toISOString(),
    type: event.type,
    outcome: event.outcome,
    user_id: event.userId,
    username,
    session_id: event.sessionId,
    ip: event.ip,
    user_agent: event.userAgent,
    reason: event.reason,
    detail: event.detail,
  };
}

/**
 * The matching events, newest first, as text chunks of the chosen format, read a page at a time
 * so an export of the whole trail never sits in memory.
 */
export async function* exportEvents(deps: AuthDeps, filter: EventFilterInput, format: ExportFormat): AsyncGenerator<string> {
  if (format === 'csv') yield csvHeader();
  const query = await toEventQuery(deps, filter);
  if (!query) return;
  const username = usernames(deps);
  let before: number | undefined;
  for (;;) {
    const events = await deps.store.admin.searchEvents({ ...query, beforeId: before, limit: PAGE });
    let chunk = '';
    for (const event of events) {
      const exported = toExported(event, await username(event.userId));
      chunk += format === 'csv' ? csvRow(exported) : jsonLine(exported);
    }
    if (chunk) yield chunk;
    if (events.length < PAGE) return;
    before = events[events.length - 1]!.id;
  }
}
