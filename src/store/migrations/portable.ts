import type { ColumnDefinitionBuilder, Kysely } from 'kysely';

/**
 * Migrations are written once with Kysely's schema builder and run on SQLite and PostgreSQL alike.
 * The few places where the two really differ are answered here, from the dialect the caller names
 * (never by sniffing the connection). Rules every migration follows (docs/deployment.md):
 * - times are epoch milliseconds in 'bigint' columns; booleans are 'integer' 0/1; JSON is 'text';
 * - a surrogate key is `autoIncrementId(dialect)`, never `.autoIncrement()` directly;
 * - no raw SQL that only one of the two understands.
 */
export type MigrationDialect = 'sqlite' | 'postgres';

/**
 * A migration. Its `up` may take the dialect as a second argument, or ignore it: a plain Kysely
 * migration (`up(db)`) fits this type too.
 */
export interface PortableMigration {
  up(db: Kysely<any>, dialect: MigrationDialect): Promise<void>;
  down?(db: Kysely<any>, dialect: MigrationDialect): Promise<void>;
}

/**
 * An integer primary key the database numbers itself. SQLite: INTEGER PRIMARY KEY AUTOINCREMENT
 * (never reuses a number). PostgreSQL has no AUTOINCREMENT: a bigint identity column, which also
 * accepts explicit ids (copying from SQLite keeps them; the copy then moves the sequence past them).
 */
export function autoIncrementId(dialect: MigrationDialect): {
  type: 'integer' | 'bigint';
  build: (column: ColumnDefinitionBuilder) => ColumnDefinitionBuilder;
} {
  return dialect === 'postgres'
    ? { type: 'bigint', build: (c) => c.primaryKey().generatedByDefaultAsIdentity() }
    : { type: 'integer', build: (c) => c.primaryKey().autoIncrement() };
}
