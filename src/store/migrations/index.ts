import { Migrator, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import type { MigrationDialect, PortableMigration } from './portable.js';
import * as initial from './001-initial.js';
import * as tokens from './002-tokens.js';
import * as risk from './003-risk.js';
import * as webauthn from './004-webauthn.js';
import * as sessionContext from './005-session-context.js';
import * as sessionContinuity from './006-session-continuity.js';
import * as webhooks from './007-webhooks.js';
import * as housekeeping from './008-housekeeping.js';
import * as cacheInvalidations from './009-cache-invalidations.js';

/** Versioned migrations, applied in name order; a name once released never changes. */
const MIGRATIONS: Record<string, PortableMigration> = {
  '001-initial': initial,
  '002-tokens': tokens,
  '003-risk': risk,
  '004-webauthn': webauthn,
  '005-session-context': sessionContext,
  '006-session-continuity': sessionContinuity,
  '007-webhooks': webhooks,
  '008-housekeeping': housekeeping,
  '009-cache-invalidations': cacheInvalidations,
};

/** Each migration bound to the dialect it runs on (named by the caller, never sniffed from the connection). */
const migrator = (db: Kysely<any>, dialect: MigrationDialect): Migrator =>
  new Migrator({
    db,
    provider: {
      getMigrations: async () =>
        Object.fromEntries(
          Object.entries(MIGRATIONS).map(([name, m]): [string, Migration] => [
            name,
            { up: (tx) => m.up(tx, dialect), down: m.down && ((tx) => m.down!(tx, dialect)) },
          ]),
        ),
    },
  });

/**
 * Not application data, never copied between stores: Kysely's own bookkeeping, and SQLite's
 * log of cache invalidations (009-cache-invalidations.ts), which PostgreSQL does not have.
 */
export const BOOKKEEPING_TABLES = ['kysely_migration', 'kysely_migration_lock', 'cache_invalidations'];

/** Names of the migrations not yet applied to this database. */
export async function pendingMigrations(db: Kysely<any>, dialect: MigrationDialect): Promise<string[]> {
  return (await migrator(db, dialect).getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
}

/** Refuses to serve an outdated schema when migrations are left to `twofold migrate`. */
export async function assertSchemaCurrent(db: Kysely<any>, dialect: MigrationDialect): Promise<void> {
  const pending = await pendingMigrations(db, dialect);
  if (pending.length) {
    throw new Error(`the database schema is behind (pending: ${pending.join(', ')}); run "twofold migrate" or set migrate_on_start: true`);
  }
}

export async function migrateToLatest(db: Kysely<any>, dialect: MigrationDialect): Promise<MigrationResultSet> {
  const result = await migrator(db, dialect).migrateToLatest();
  if (result.error) throw result.error instanceof Error ? result.error : new Error(String(result.error));
  return result;
}
