import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from '../schema.js';
import { assertSchemaCurrent, migrateToLatest } from '../migrations/index.js';
import { createKyselyStore } from '../kysely/kysely-store.js';
import type { Store } from '../store.js';
import { guardedPool } from './guarded-pool.js';
import { PortableSqlPlugin } from './portable-sql-plugin.js';

export interface PostgresStoreOptions {
  /** Apply pending migrations now (migrate_on_start); otherwise refuse an outdated schema. */
  migrate: boolean;
  /** Connections per node (default 10). */
  poolSize?: number;
  /** Called when an idle pooled connection dies (PostgreSQL restarted, connection killed). */
  onIdleError?: (err: Error) => void;
}

export interface OpenedPostgresStore {
  store: Store;
  db: Kysely<Database>;
}

const INT8_OID = 20;

/**
 * bigint (int8) arrives from pg as a string, because it can exceed 2^53. twofold's bigints are
 * epoch milliseconds, TOTP steps, ids and counts (count(*) is int8), all far below 2^53, so they
 * become numbers, the type SQLite hands back; a value that would lose precision stays exact as a
 * BigInt instead of silently rounding.
 */
export const parseInt8 = (text: string): number | bigint => {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
};

const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** Kysely over a pg pool to `url` (postgres://…), with the portability plugin and unavailability mapping. */
export function postgresKysely(url: string, options: Omit<PostgresStoreOptions, 'migrate'> = {}): Kysely<Database> {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    // Fail fast when the server is unreachable: validation answers 503 rather than hanging.
    connectionTimeoutMillis: 3000,
    query_timeout: 10_000,
    idleTimeoutMillis: 30_000,
    types,
    application_name: 'twofold',
  });
  // An idle client whose connection dies emits 'error' on the pool; unhandled it would end the process.
  pool.on('error', (err) => options.onIdleError?.(err));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: guardedPool(pool) }), plugins: [new PortableSqlPlugin()] });
}

/** Opens the PostgreSQL store and brings its schema up to date (or checks it is, when migrate is false). */
export async function openPostgresStore(url: string, options: PostgresStoreOptions): Promise<OpenedPostgresStore> {
  const db = postgresKysely(url, options);
  try {
    if (options.migrate) await migrateToLatest(db, 'postgres');
    else await assertSchemaCurrent(db, 'postgres');
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return { store: createKyselyStore(db), db };
}
