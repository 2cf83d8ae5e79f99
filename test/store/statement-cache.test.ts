import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type Generated } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withStatementCache } from '../../src/store/sqlite/open.js';

/**
 * The store's SQLite connection prepares each query text once and reuses the statement. Reuse is
 * only safe for a statement that is not in the middle of a result: these tests hold one open (a
 * streamed Kysely query, a raw iterator) and ask for the same SQL again, on a real database file.
 */

interface Row {
  id: number;
  v: string;
}
interface Db {
  t: { id: Generated<number>; v: string };
}

/** What withStatementCache hands Kysely, with the statements' own (better-sqlite3) type. */
interface CachedDatabase {
  prepare(sql: string): BetterSqlite3.Statement;
  close(): void;
}

let dir: string;
let sqlite: BetterSqlite3.Database;
let closed: number;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'twofold-statements-'));
  sqlite = new BetterSqlite3(join(dir, 'db.sqlite'));
  sqlite.pragma('journal_mode = WAL');
  sqlite.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  const insert = sqlite.prepare('INSERT INTO t (v) VALUES (?)');
  for (let i = 1; i <= 20; i++) insert.run(`row ${i}`);
  closed = 0;
});

afterEach(() => {
  if (sqlite.open) sqlite.close();
  rmSync(dir, { recursive: true, force: true });
});

const cached = (max?: number) => withStatementCache(sqlite, () => closed++, max) as unknown as CachedDatabase;

describe('the prepared-statement cache', () => {
  it('hands out one statement per SQL text while none is busy', () => {
    const db = cached();
    const a = db.prepare('SELECT v FROM t WHERE id = ?');
    const b = db.prepare('SELECT v FROM t WHERE id = ?');
    expect(b).toBe(a);
    expect(db.prepare('SELECT id FROM t WHERE v = ?')).not.toBe(a);
    expect(a.get(3)).toEqual({ v: 'row 3' });
  });

  it('never hands out a statement that is still iterating: the second gets its own, and both read every row', () => {
    const db = cached();
    const sql = 'SELECT id, v FROM t ORDER BY id';
    const outer = db.prepare(sql);
    const outerRows: number[] = [];
    const innerCounts: number[] = [];
    for (const row of outer.iterate() as IterableIterator<Row>) {
      outerRows.push(row.id);
      const inner = db.prepare(sql);
      expect(inner).not.toBe(outer);
      innerCounts.push((inner.all() as Row[]).length);
    }
    expect(outerRows).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(innerCounts).toEqual(Array(20).fill(20));
    // Done iterating: the statement in the cache is handed out again.
    const again = db.prepare(sql);
    expect(again.busy).toBe(false);
    expect(db.prepare(sql)).toBe(again);
  });

  it('through Kysely: while a streamed query iterates, its SQL is handed out fresh (reusing it would throw "busy")', async () => {
    const database = cached();
    const kysely = new Kysely<Db>({ dialect: new SqliteDialect({ database }) });
    const query = kysely.selectFrom('t').select(['id', 'v']).orderBy('id');
    const { sql } = query.compile();
    const streamed: number[] = [];
    for await (const row of query.stream()) {
      streamed.push(row.id);
      // Kysely holds its one connection for the stream, so the same SQL comes from the cache directly.
      const again = database.prepare(sql);
      expect(again.busy).toBe(false);
      expect(again.all()).toHaveLength(20);
    }
    expect(streamed).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    // Done streaming: the query runs again through Kysely, and sees a write made meanwhile.
    await kysely.insertInto('t').values({ v: 'row 21' }).execute();
    expect(await query.execute()).toHaveLength(21);
    await kysely.destroy();
    expect(closed).toBe(1);
    expect(sqlite.open).toBe(false);
  });

  it('a stream left early (break) frees its statement for the next run', async () => {
    const database = cached();
    const kysely = new Kysely<Db>({ dialect: new SqliteDialect({ database }) });
    const query = kysely.selectFrom('t').selectAll().where('id', '>', 0);
    for await (const row of query.stream()) if (row.id === 3) break;
    expect(database.prepare(query.compile().sql).busy).toBe(false);
    expect(await query.execute()).toHaveLength(20);
    await kysely.destroy();
  });

  it('a cached SELECT * follows a schema change (as after a migration)', () => {
    const db = cached();
    const sql = 'SELECT * FROM t WHERE id = 1';
    expect(db.prepare(sql).get()).toEqual({ id: 1, v: 'row 1' });
    sqlite.exec("ALTER TABLE t ADD COLUMN extra TEXT NOT NULL DEFAULT 'new'");
    expect(db.prepare(sql).get()).toEqual({ id: 1, v: 'row 1', extra: 'new' });
  });

  it('holds at most maxStatements, dropping the oldest', () => {
    const db = cached(2);
    const first = db.prepare('SELECT 1');
    db.prepare('SELECT 2');
    expect(db.prepare('SELECT 1')).toBe(first);
    db.prepare('SELECT 3');
    expect(db.prepare('SELECT 1')).not.toBe(first);
  });
});
