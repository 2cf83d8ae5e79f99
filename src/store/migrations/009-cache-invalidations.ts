import { sql, type Kysely } from 'kysely';
import type { MigrationDialect } from './portable.js';

/**
 * SQLite only: a short log of what other connections changed that a process's session cache may
 * hold (src/store/sqlite/cache-invalidations.ts reads it). Written by triggers, so every writer
 * logs (the CLI, another twofold process, a sqlite3 shell), with nothing to remember in code.
 *
 * Before it, a serving process dropped its whole cache whenever SQLite's data_version moved, which
 * ruled out a second connection of its own that writes: the sliding-expiry writes could not leave
 * the event loop (sqlite/background-writer.ts). Now a commit that changed no session or user logs nothing,
 * and one that did names them, so the cache drops those only.
 *
 * Logged: any change to a session other than its activity times (a touch writes only last_seen_at and
 * idle_expires_at), a deleted session, any change to a user or deleted user, a deleted TOTP factor or
 * passkey (a factor reset, which cached-store.ts also evicts for). Kept: the last 10,000 entries; a
 * reader further behind than that drops everything. The column lists are checked against the tables
 * by test/store/cache-invalidations.test.ts, so a new column cannot be forgotten here.
 *
 * PostgreSQL: nothing. Nodes sharing it learn of revocations over Redis, or trust a cached session
 * only for session_cache.max_age_without_broadcast (docs/deployment.md).
 */
export const SESSION_COLUMNS_LOGGED = [
  'id',
  'token_hash',
  'user_id',
  'kind',
  'aal',
  'amr',
  'auth_time',
  'created_at',
  'expires_at',
  'ip',
  'user_agent',
  'revoked_at',
  'revoked_reason',
  'idle_timeout_ms',
  'country',
  'asn',
  'risk_band',
  'risk_score',
  'device_hash',
];

/** The two columns a touch writes: the only changes not logged. */
export const SESSION_ACTIVITY_COLUMNS = ['last_seen_at', 'idle_expires_at'];

const KEEP = 10_000;

/** One entry, then the log trimmed to its last KEEP entries (a rowid range: cheap). */
const logEntry = (kind: 'session' | 'user', id: string) =>
  `INSERT INTO cache_invalidations (kind, ref) VALUES ('${kind}', ${id});
   DELETE FROM cache_invalidations WHERE seq <= (SELECT max(seq) FROM cache_invalidations) - ${KEEP};`;

const TRIGGERS: Array<[name: string, event: string, entry: string]> = [
  ['cache_invalidations_session_update', `UPDATE OF ${SESSION_COLUMNS_LOGGED.join(', ')} ON sessions`, logEntry('session', 'OLD.id')],
  ['cache_invalidations_session_delete', 'DELETE ON sessions', logEntry('session', 'OLD.id')],
  ['cache_invalidations_user_update', 'UPDATE ON users', logEntry('user', 'OLD.id')],
  ['cache_invalidations_user_delete', 'DELETE ON users', logEntry('user', 'OLD.id')],
  ['cache_invalidations_totp_delete', 'DELETE ON totp_factors', logEntry('user', 'OLD.user_id')],
  ['cache_invalidations_passkey_delete', 'DELETE ON webauthn_credentials', logEntry('user', 'OLD.user_id')],
];

export async function up(db: Kysely<any>, dialect: MigrationDialect): Promise<void> {
  if (dialect !== 'sqlite') return;
  await sql`CREATE TABLE cache_invalidations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('session', 'user')),
    ref TEXT NOT NULL
  )`.execute(db);
  for (const [name, event, entry] of TRIGGERS) {
    await sql.raw(`CREATE TRIGGER ${name} AFTER ${event} BEGIN ${entry} END`).execute(db);
  }
}

export async function down(db: Kysely<any>, dialect: MigrationDialect): Promise<void> {
  if (dialect !== 'sqlite') return;
  for (const [name] of TRIGGERS) await sql.raw(`DROP TRIGGER ${name}`).execute(db);
  await sql`DROP TABLE cache_invalidations`.execute(db);
}
