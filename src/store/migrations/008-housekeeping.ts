import type { Kysely } from 'kysely';

/**
 * Housekeeping (src/housekeeping/housekeeping.ts) deletes what ended long ago, a small batch at a
 * time. These indexes let each batch find its rows without reading the whole table: a scan of a
 * million sessions would hold SQLite's one connection, and every check waiting on it, for seconds.
 * expires_at is written once per session (touches move idle_expires_at), so the index costs no
 * write on the validation path.
 */
const INDEXES: Array<[name: string, table: string, column: string]> = [
  ['sessions_expires', 'sessions', 'expires_at'],
  ['pending_logins_expires', 'pending_logins', 'expires_at'],
  ['webauthn_challenges_expires', 'webauthn_challenges', 'expires_at'],
  ['webhook_deliveries_created', 'webhook_deliveries', 'created_at'],
];

export async function up(db: Kysely<any>): Promise<void> {
  for (const [name, table, column] of INDEXES) await db.schema.createIndex(name).on(table).column(column).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const [name] of INDEXES) await db.schema.dropIndex(name).execute();
}
