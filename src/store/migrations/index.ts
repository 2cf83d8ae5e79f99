import { Migrator, type Kysely, type Migration, type MigrationResultSet } from 'kysely';
import * as initial from './001-initial.js';

/** Versioned migrations, applied in name order; a name once released never changes. */
const MIGRATIONS: Record<string, Migration> = {
  '001-initial': initial,
};

export async function migrateToLatest(db: Kysely<any>): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS } });
  const result = await migrator.migrateToLatest();
  if (result.error) throw result.error instanceof Error ? result.error : new Error(String(result.error));
  return result;
}
