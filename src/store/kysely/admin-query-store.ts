import { sql, type Expression, type ExpressionBuilder, type Kysely, type SqlBool } from 'kysely';
import type { AdminQueryStore, EventQuery } from '../admin-queries.js';
import type { Database } from '../schema.js';
import type { EventOutcome } from '../store.js';
import { toLogin } from './risk-store.js';
import { toEvent, toSession, toUser } from './rows.js';

type EventsBuilder = ExpressionBuilder<Database, 'events'>;

/** What a sign-in step records as coming next (`detail.next`), the only part of the detail a tally keeps. */
const NEXT_STATES = ['authenticated', 'second_factor_required', 'enrollment_required', 'denied'];

/** "login.*" matches by prefix (substr works alike in SQLite and PostgreSQL, and treats no character as a wildcard). */
function typeMatches(eb: EventsBuilder, types: string[]): Expression<SqlBool> {
  return eb.or(
    types.map((type) =>
      type.endsWith('.*')
        ? eb(sql<string>`substr(${eb.ref('type')}, 1, ${type.length - 1})`, '=', type.slice(0, -1))
        : eb('type', '=', type),
    ),
  );
}

function eventFilter(eb: EventsBuilder, q: Omit<EventQuery, 'limit' | 'beforeId'>): Expression<SqlBool> {
  const conditions: Array<Expression<SqlBool>> = [];
  if (q.types?.length) conditions.push(typeMatches(eb, q.types));
  if (q.userId) conditions.push(eb('user_id', '=', q.userId));
  if (q.ip) conditions.push(eb('ip', '=', q.ip));
  if (q.outcome) conditions.push(eb('outcome', '=', q.outcome));
  if (q.since !== undefined) conditions.push(eb('at', '>=', q.since));
  if (q.until !== undefined) conditions.push(eb('at', '<', q.until));
  return eb.and(conditions);
}

/** LIKE with the user's text taken literally. */
const likeContaining = (text: string): string => `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

export function adminQueryStore(db: Kysely<Database>): AdminQueryStore {
  return {
    async searchEvents(q) {
      let query = db
        .selectFrom('events')
        .selectAll()
        .where((eb) => eventFilter(eb, q));
      if (q.beforeId !== undefined) query = query.where('id', '<', q.beforeId);
      return (await query.orderBy('id', 'desc').limit(q.limit).execute()).map(toEvent);
    },

    async tallyEvents(q) {
      // Bucket by integer arithmetic on the epoch-ms column, and read detail.next by pattern (the
      // detail is JSON.stringify'd, so the text is exact): the same SQL on SQLite and PostgreSQL,
      // and one row per kind of step rather than one per distinct detail.
      const bucket = sql<number>`(at - (at % ${sql.lit(Math.max(1, Math.floor(q.bucketMs)))}))`;
      const next = sql<string | null>`(case ${sql.join(
        NEXT_STATES.map((state) => sql`when detail like ${sql.lit(`%"next":"${state}"%`)} then ${sql.lit(state)}`),
        sql` `,
      )} else null end)`;
      const rows = await db
        .selectFrom('events')
        .select([bucket.as('bucket_start'), 'type', 'outcome', 'reason', next.as('next'), (eb) => eb.fn.countAll<number>().as('n')])
        .where((eb) => eventFilter(eb, { types: q.types, since: q.since, until: q.until }))
        .groupBy([bucket, 'type', 'outcome', 'reason', next])
        .orderBy('bucket_start')
        .execute();
      return rows.map((r) => ({
        bucketStart: Number(r.bucket_start),
        type: r.type,
        outcome: r.outcome as EventOutcome,
        reason: r.reason,
        detail: r.next === null ? null : { next: r.next },
        count: Number(r.n),
      }));
    },

    async searchUsers(text, limit) {
      let query = db.selectFrom('users').selectAll();
      const needle = text.trim().toLowerCase();
      if (needle) {
        const pattern = likeContaining(needle);
        query = query.where((eb) =>
          eb.or([
            eb(sql`lower(username)`, 'like', sql`${pattern} escape '\\'`),
            eb(sql`lower(display_name)`, 'like', sql`${pattern} escape '\\'`),
          ]),
        );
      }
      return (await query.orderBy('username').limit(limit).execute()).map(toUser);
    },

    async countActiveSessions(now) {
      const row = await db
        .selectFrom('sessions')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .where('idle_expires_at', '>', now)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },

    async searchSessions(now, q) {
      let query = db
        .selectFrom('sessions')
        .selectAll()
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .where('idle_expires_at', '>', now);
      if (q.userId) query = query.where('user_id', '=', q.userId);
      if (q.ip) {
        if (q.ip.endsWith('*')) {
          const prefix = q.ip.slice(0, -1);
          query = query.where(sql<string>`substr(ip, 1, ${prefix.length})`, '=', prefix);
        } else query = query.where('ip', '=', q.ip);
      }
      if (q.country) query = query.where('country', '=', q.country);
      if (q.asn) query = query.where('asn', '=', q.asn);
      if (q.riskBands?.length) query = query.where('risk_band', 'in', q.riskBands);
      return (await query.orderBy('created_at', 'desc').limit(q.limit).execute()).map(toSession);
    },

    async userSignIns(userId, limit) {
      const rows = await db
        .selectFrom('login_history')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return rows.map(toLogin);
    },
  };
}
