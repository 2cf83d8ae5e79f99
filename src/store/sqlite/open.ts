import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database } from '../schema.js';
import { migrateToLatest } from '../migrations/index.js';
import { createKyselyStore } from '../kysely/kysely-store.js';
import type { Store } from '../store.js';

export interface OpenedSqliteStore {
  store: Store;
  /** SQLite's data_version: changes when another connection (another process) commits. */
  externalVersion: () => number;
}

/** Opens (creating if needed) the embedded SQLite store and brings its schema up to date. */
export async function openSqliteStore(path: string): Promise<OpenedSqliteStore> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const sqlite = new BetterSqlite3(path);
  // WAL lets readers (session validation) proceed while a writer commits; synchronous=NORMAL in WAL
  // mode keeps every committed transaction across a process crash (only an OS crash can lose the last one).
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  await migrateToLatest(db);
  const dataVersion = sqlite.prepare('PRAGMA data_version').pluck();
  return { store: createKyselyStore(db), externalVersion: () => dataVersion.get() as number };
}
