import BetterSqlite3 from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import { BOOKKEEPING_TABLES, migrateToLatest } from './migrations/index.js';
import { postgresKysely } from './postgres/open.js';
import { openSqliteStore } from './sqlite/open.js';

/** One table moved: rows read from SQLite and rows found in PostgreSQL afterwards. */
export interface TableCopy {
  table: string;
  source: number;
  target: number;
}

export class CopyRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyRefusedError';
  }
}

const BATCH_ROWS = 500;
const quote = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * The application tables of a SQLite database, parents before children (by their foreign keys), so
 * rows can be inserted in that order. Discovered from the schema, not listed: a table added by a
 * later migration is copied too.
 */
export function tablesInDependencyOrder(sqlite: BetterSqlite3.Database): string[] {
  const tables = (
    sqlite
      .prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\' order by name")
      .pluck()
      .all() as string[]
  ).filter((t) => !BOOKKEEPING_TABLES.includes(t));
  const parents = new Map(
    tables.map((t) => [
      t,
      (sqlite.prepare('select "table" from pragma_foreign_key_list(?)').pluck().all(t) as string[]).filter((p) => p !== t),
    ]),
  );
  const ordered: string[] = [];
  const visit = (table: string, path: string[]) => {
    if (ordered.includes(table)) return;
    if (path.includes(table)) throw new CopyRefusedError(`foreign keys form a cycle: ${[...path, table].join(' -> ')}`);
    for (const parent of parents.get(table) ?? []) if (parents.has(parent)) visit(parent, [...path, table]);
    ordered.push(table);
  };
  for (const table of tables) visit(table, []);
  return ordered;
}

/**
 * Copies an installation from its SQLite file into an empty PostgreSQL database: brings both
 * schemas to the latest migration, copies every application table in one PostgreSQL transaction
 * (all or nothing), moves identity sequences past the copied ids, then counts both sides.
 * Refuses a target that already holds data.
 */
export async function copySqliteToPostgres(
  sqlitePath: string,
  postgresUrl: string,
  progress: (table: string, rows: number) => void = () => undefined,
): Promise<TableCopy[]> {
  // Opening it as twofold would (migrations applied) makes the two schemas the same version.
  await (await openSqliteStore(sqlitePath, { migrate: true, backgroundCheckpoints: false })).store.close();
  const sqlite = new BetterSqlite3(sqlitePath, { readonly: true, fileMustExist: true });
  const db = postgresKysely(postgresUrl) as unknown as Kysely<any>;
  try {
    await migrateToLatest(db, 'postgres');
    const tables = tablesInDependencyOrder(sqlite);
    const targetColumns = await postgresColumns(db);
    for (const table of tables) {
      const missing = sourceColumns(sqlite, table).filter((c) => !targetColumns.get(table)?.has(c));
      if (missing.length) throw new CopyRefusedError(`PostgreSQL has no ${missing.map((c) => `${table}.${c}`).join(', ')}`);
      const existing = await countRows(db, table);
      if (existing > 0) throw new CopyRefusedError(`the target database is not empty (${table} has ${existing} rows)`);
    }

    await db.transaction().execute(async (tx) => {
      for (const table of tables) {
        const columns = sourceColumns(sqlite, table);
        // safeIntegers: 64-bit integers arrive exact (as BigInt) and are sent to PostgreSQL as written.
        const rows = sqlite.prepare(`select ${columns.map(quote).join(', ')} from ${quote(table)}`).safeIntegers(true);
        let batch: Record<string, unknown>[] = [];
        let copied = 0;
        const flush = async () => {
          if (!batch.length) return;
          await tx.insertInto(table).values(batch).execute();
          copied += batch.length;
          progress(table, copied);
          batch = [];
        };
        for (const row of rows.iterate() as Iterable<Record<string, unknown>>) {
          batch.push(row);
          if (batch.length >= BATCH_ROWS) await flush();
        }
        await flush();
        for (const column of targetColumns.get(table)?.identities ?? []) {
          await sql`select setval(pg_get_serial_sequence(${table}, ${column}), coalesce((select max(${sql.ref(column)}) from ${sql.table(table)}), 0) + 1, false)`.execute(
            tx,
          );
        }
      }
    });

    const result: TableCopy[] = [];
    for (const table of tables) {
      const source = Number(
        sqlite
          .prepare(`select count(*) from ${quote(table)}`)
          .pluck()
          .get(),
      );
      result.push({ table, source, target: await countRows(db, table) });
    }
    return result;
  } finally {
    sqlite.close();
    await db.destroy();
  }
}

function sourceColumns(sqlite: BetterSqlite3.Database, table: string): string[] {
  return sqlite.prepare('select name from pragma_table_info(?) order by cid').pluck().all(table) as string[];
}

async function countRows(db: Kysely<any>, table: string): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

type ColumnSet = Set<string> & { identities: string[] };

async function postgresColumns(db: Kysely<any>): Promise<Map<string, ColumnSet>> {
  const { rows } = await sql<{ table_name: string; column_name: string; is_identity: string }>`
    select table_name, column_name, is_identity from information_schema.columns where table_schema = current_schema()`.execute(db);
  const tables = new Map<string, ColumnSet>();
  for (const r of rows) {
    let columns = tables.get(r.table_name);
    if (!columns) tables.set(r.table_name, (columns = Object.assign(new Set<string>(), { identities: [] as string[] })));
    columns.add(r.column_name);
    if (r.is_identity === 'YES') columns.identities.push(r.column_name);
  }
  return tables;
}
