import { mkdirSync, readdirSync, readlinkSync, readSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDatabase } from 'kysely';
import type { Database } from '../schema.js';
import { assertSchemaCurrent, migrateToLatest } from '../migrations/index.js';
import { createKyselyStore } from '../kysely/kysely-store.js';
import { oncePerTurn } from './turn-memo.js';
import { cacheInvalidationReader } from './cache-invalidations.js';
import { startBackgroundWriter, TOUCH_SQL } from './background-writer.js';
import { sharedPragmas } from './connection-settings.js';
import { withBatchedTouches, type TouchBatch, type TouchBatchWriter } from '../batched-touches.js';
import type { ExternalChanges, Store } from '../store.js';

export interface OpenedSqliteStore {
  store: Store;
  /**
   * The sessions and users other connections changed (cache-invalidations.ts), looked up only when
   * SQLite's data_version moved. data_version is read once per event-loop turn (turn-memo.ts): a
   * commit by another process applies from the next turn, at most 1 ms later.
   */
  externalChanges: () => ExternalChanges;
}

/**
 * Kysely's SQLite driver prepares every query anew; compiling the SQL costs more than running the
 * indexed lookups it is asked for (about 20 us of a 38 us session lookup on a million rows). The
 * store issues a small fixed set of query texts, so each is prepared once and reused. Same SQL, same
 * connection, same results; a statement still iterating (a streamed query) is never handed out twice.
 */
export function withStatementCache(sqlite: BetterSqlite3.Database, onClose: () => void, maxStatements = 500): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (statement === undefined || statement.busy) {
        statement = sqlite.prepare(sql);
        if (statements.size >= maxStatements) statements.delete(statements.keys().next().value!);
        statements.set(sql, statement);
      }
      return statement;
    },
    close() {
      onClose();
      statements.clear();
      sqlite.close();
    },
  };
}

/**
 * The descriptor SQLite itself keeps open on the database's -shm file (the WAL index), found in
 * /proc/self/fd (Linux). It is only ever read with pread(), never closed: closing any descriptor of
 * a file drops every POSIX lock this process holds on it, SQLite's included. Undefined elsewhere.
 */
function sqliteShmDescriptor(path: string): number | undefined {
  try {
    const shm = `${realpathSync(path)}-shm`;
    for (const name of readdirSync('/proc/self/fd')) {
      try {
        if (readlinkSync(`/proc/self/fd/${name}`) === shm) return Number(name);
      } catch {
        // a descriptor closed meanwhile
      }
    }
  } catch {
    // no /proc, or no file
  }
  return undefined;
}

export interface DataVersionReader {
  read(): number;
  /** Before the connection closes: from then on every read asks SQLite. */
  stop(): void;
  /** 'wal-index' while reads can be answered from the -shm header; 'exact' when every read asks SQLite. */
  readonly mode: 'wal-index' | 'exact';
}

/**
 * SQLite's data_version, which moves when another connection (another process, e.g. the CLI)
 * commits. The session cache asks on every lookup, and reading it is a read transaction: a statement
 * and two fcntl() locks on the -shm file, about 15% of a forward-auth check's CPU under load
 * (bench/README.md). In WAL mode every commit, by any process, rewrites the WAL-index header at the
 * start of the -shm file (its change counter moves), so while those 48 bytes read the same as just
 * before the last real read, nothing was committed since and the version read then still holds: one
 * pread() says so. Any difference, and anything unexpected, falls back to the real read, as does a
 * database without a -shm file we can find (not WAL, :memory:, not Linux).
 */
export function dataVersionReader(sqlite: BetterSqlite3.Database, path: string): DataVersionReader {
  const dataVersion = sqlite.prepare('PRAGMA data_version').pluck();
  const exact = () => dataVersion.get() as number;
  const wal = path !== ':memory:' && String(sqlite.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
  let shm = wal ? sqliteShmDescriptor(path) : undefined;
  if (shm === undefined) return { read: exact, stop: () => undefined, mode: 'exact' };
  const seen = Buffer.alloc(48);
  const current = Buffer.alloc(48);
  let version: number | undefined;
  return {
    read() {
      if (shm === undefined) return exact();
      try {
        if (readSync(shm, current, 0, 48, 0) !== 48) throw new Error('short read of the WAL index');
      } catch {
        shm = undefined;
        return exact();
      }
      if (version !== undefined && current.equals(seen)) return version;
      current.copy(seen);
      return (version = exact());
    },
    // Called before the connection closes: SQLite may then close the descriptor and its number be reused.
    stop() {
      shm = undefined;
    },
    get mode() {
      return shm === undefined ? 'exact' : 'wal-index';
    },
  };
}

/** The settings of the serving connection (and of a CLI command's): sharedPragmas, which the touch thread applies too, plus WAL mode and foreign keys. */
export function applyConnectionPragmas(sqlite: BetterSqlite3.Database, synchronous: 'normal' | 'full'): void {
  // WAL lets readers (session validation) proceed while a writer commits.
  sqlite.pragma('journal_mode = WAL');
  for (const pragma of sharedPragmas(synchronous)) sqlite.pragma(pragma);
  sqlite.pragma('foreign_keys = ON');
}

/** Opens (creating if needed) the embedded SQLite store and brings its schema up to date. */
export async function openSqliteStore(
  path: string,
  /**
   * `backgroundCheckpoints: false`: SQLite checkpoints inside commits as usual, and touches are
   * written at once on this connection (short-lived CLI commands). Otherwise both run on threads.
   */
  options: {
    migrate?: boolean;
    synchronous?: 'normal' | 'full';
    backgroundCheckpoints?: boolean;
    /** A batch of touches that could not be written (logged by the caller; the next touch writes it). */
    onTouchError?: (err: Error, dropped: number) => void;
  } = {},
): Promise<OpenedSqliteStore> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const sqlite = new BetterSqlite3(path);
  applyConnectionPragmas(sqlite, options.synchronous ?? 'normal');
  let stopVersionReader = () => undefined as void;
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite, () => stopVersionReader()) }) });
  if (options.migrate === false) await assertSchemaCurrent(db, 'sqlite');
  else await migrateToLatest(db, 'sqlite');
  // Once the schema is in place: a store that never opened leaves no thread behind.
  const threads = path !== ':memory:' && options.backgroundCheckpoints !== false;
  const synchronous = options.synchronous ?? 'normal';
  const background = threads ? startBackgroundWriter(sqlite, path, { synchronous, fallback: touchBatchesOn(sqlite) }) : undefined;
  const dataVersion = dataVersionReader(sqlite, path);
  stopVersionReader = dataVersion.stop;
  const direct = createKyselyStore(db);
  const store = background ? withBatchedTouches(direct, background.writeTouches, { onError: options.onTouchError }) : direct;
  return {
    store: {
      ...store,
      // Pending touches are written first (batched-touches.ts flushes them as it closes); then the
      // thread's connection closes too (the last one may remove the WAL as it closes).
      async close() {
        await store.close();
        await background?.stop();
      },
    },
    externalChanges: cacheInvalidationReader(sqlite, oncePerTurn(dataVersion.read)),
  };
}

/** A batch of touches written on the serving connection itself: the background thread's fallback. */
function touchBatchesOn(sqlite: BetterSqlite3.Database): TouchBatchWriter {
  const touch = sqlite.prepare(TOUCH_SQL);
  const write = sqlite.transaction((batch: TouchBatch) => {
    const { ids, times } = batch;
    for (let i = 0; i < ids.length; i++) touch.run(times[2 * i], times[2 * i + 1], ids[i]);
  });
  return async (batch) => write(batch);
}
