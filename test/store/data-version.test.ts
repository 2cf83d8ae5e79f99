import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dataVersionReader } from '../../src/store/sqlite/open.js';

/**
 * dataVersionReader answers "did anyone else commit?" from the 48-byte WAL-index header in the -shm
 * file while it is unchanged, and asks SQLite (PRAGMA data_version) otherwise. The session cache
 * trusts it to see a revocation written by another process (the CLI), so these tests write with real
 * second connections and real second processes on real database files.
 */

const REPO = resolve(import.meta.dirname, '../..');
let dir: string;
const open: BetterSqlite3.Database[] = [];

function connect(path: string, journal: 'wal' | 'delete' = 'wal'): BetterSqlite3.Database {
  const db = new BetterSqlite3(path);
  db.pragma(`journal_mode = ${journal}`);
  db.pragma('busy_timeout = 5000');
  open.push(db);
  return db;
}

/** A database with one table, and the connection that will watch it (after a first read, as the store has done by then). */
function watched(journal: 'wal' | 'delete' = 'wal') {
  const path = join(dir, 'watched.sqlite');
  const db = connect(path, journal);
  db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)');
  db.prepare('SELECT count(*) FROM t').get();
  return { path, db, reader: dataVersionReader(db, path) };
}

/** Runs a Node script in its own process (better-sqlite3 resolved from the repository) and waits for it. */
function inOtherProcess(script: string, args: string[]): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, '--', ...args], { cwd: REPO, stdio: 'pipe' });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? done(out) : fail(new Error(`child exited ${code}: ${err}`))));
  });
}

const INSERT_ONCE = `
import Database from 'better-sqlite3';
const db = new Database(process.argv.at(-1));
db.pragma('busy_timeout = 5000');
db.prepare("INSERT INTO t (v) VALUES ('from another process')").run();
db.close();
`;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'twofold-data-version-'));
});

afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('dataVersionReader: a commit by anyone else moves the version, and nothing else does', () => {
  it('in WAL mode reads the -shm header, and the version holds while nobody writes', () => {
    const { db, reader } = watched();
    expect(reader.mode).toBe('wal-index');
    const first = reader.read();
    for (let i = 0; i < 100; i++) expect(reader.read()).toBe(first);
    // The connection's own commits are not "someone else" (SQLite's data_version does not move for them).
    db.prepare("INSERT INTO t (v) VALUES ('own')").run();
    expect(reader.read()).toBe(first);
    expect(reader.read()).toBe(db.pragma('data_version', { simple: true }));
  });

  it('sees each commit of a second connection in this process, at once', () => {
    const { path, reader } = watched();
    const other = connect(path);
    const versions = [reader.read()];
    for (let i = 0; i < 5; i++) {
      other.prepare('INSERT INTO t (v) VALUES (?)').run(`other ${i}`);
      const version = reader.read();
      expect(version, `after commit ${i}`).not.toBe(versions.at(-1));
      expect(reader.read()).toBe(version);
      versions.push(version);
    }
    // An UPDATE and a DELETE are commits too; a read-only transaction is not.
    other.prepare("UPDATE t SET v = 'changed' WHERE id = 1").run();
    const afterUpdate = reader.read();
    expect(afterUpdate).not.toBe(versions.at(-1));
    other.prepare('SELECT * FROM t').all();
    expect(reader.read()).toBe(afterUpdate);
    other.prepare('DELETE FROM t WHERE id = 2').run();
    expect(reader.read()).not.toBe(afterUpdate);
    expect(reader.mode).toBe('wal-index');
  });

  it('sees a commit by another process, also one that checkpointed and restarted the WAL', async () => {
    const { path, db, reader } = watched();
    const before = reader.read();
    await inOtherProcess(INSERT_ONCE, [path]);
    const afterInsert = reader.read();
    expect(afterInsert).not.toBe(before);
    expect(reader.read()).toBe(afterInsert);
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(1);

    // A checkpoint that truncates the WAL rewrites the header: a commit after it must still be seen.
    await inOtherProcess(
      `
      import Database from 'better-sqlite3';
      const db = new Database(process.argv.at(-1));
      db.pragma('busy_timeout = 5000');
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.prepare("INSERT INTO t (v) VALUES ('after checkpoint')").run();
      db.close();
      `,
      [path],
    );
    const afterCheckpoint = reader.read();
    expect(afterCheckpoint).not.toBe(afterInsert);
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(2);
    expect(reader.mode).toBe('wal-index');
  });

  it('sees many commits of a process that keeps its connection open, each before the next', async () => {
    const { path, reader } = watched();
    // The other process commits, then waits for a line on stdin before committing again.
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
        import Database from 'better-sqlite3';
        import { createInterface } from 'node:readline';
        const db = new Database(process.argv.at(-1));
        db.pragma('busy_timeout = 5000');
        const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
        for await (const line of createInterface({ input: process.stdin })) {
          if (line === 'quit') break;
          insert.run(line);
          process.stdout.write('committed\\n');
        }
        db.close();
        `,
        '--',
        path,
      ],
      { cwd: REPO, stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const committed = () =>
      new Promise<void>((done) => {
        const onData = (chunk: Buffer) => {
          if (String(chunk).includes('committed')) {
            child.stdout.off('data', onData);
            done();
          }
        };
        child.stdout.on('data', onData);
      });
    try {
      let last = reader.read();
      for (let i = 0; i < 10; i++) {
        const done = committed();
        child.stdin.write(`row ${i}\n`);
        await done;
        const version = reader.read();
        expect(version, `commit ${i}`).not.toBe(last);
        last = version;
      }
    } finally {
      child.stdin.end('quit\n');
      await new Promise((done) => child.once('close', done));
    }
  });

  it('stays in WAL mode while it watches: another process cannot switch the journal mode away', async () => {
    const { path, reader } = watched();
    const before = reader.read();
    const mode = await inOtherProcess(
      `
      import Database from 'better-sqlite3';
      const db = new Database(process.argv.at(-1));
      db.pragma('busy_timeout = 200');
      let mode;
      try { mode = db.pragma('journal_mode = DELETE', { simple: true }); } catch (err) { mode = err.code; }
      db.prepare("INSERT INTO t (v) VALUES ('still seen')").run();
      db.close();
      process.stdout.write(String(mode));
      `,
      [path],
    );
    expect(mode.toLowerCase()).not.toBe('delete');
    expect(reader.read()).not.toBe(before);
  });

  it('falls back to asking SQLite for a database not in WAL mode, and still sees other commits', async () => {
    const { path, reader } = watched('delete');
    expect(reader.mode).toBe('exact');
    const before = reader.read();
    expect(reader.read()).toBe(before);
    connect(path, 'delete').prepare("INSERT INTO t (v) VALUES ('x')").run();
    const afterConnection = reader.read();
    expect(afterConnection).not.toBe(before);
    await inOtherProcess(INSERT_ONCE, [path]);
    expect(reader.read()).not.toBe(afterConnection);
  });

  it('falls back to asking SQLite for :memory:', () => {
    const db = new BetterSqlite3(':memory:');
    open.push(db);
    db.pragma('journal_mode = WAL'); // ignored by SQLite for :memory: ('memory')
    const reader = dataVersionReader(db, ':memory:');
    expect(reader.mode).toBe('exact');
    expect(reader.read()).toBe(db.pragma('data_version', { simple: true }));
  });

  it('after stop() asks SQLite on every read (the descriptor may be closed and its number reused)', async () => {
    const { path, reader } = watched();
    const before = reader.read();
    reader.stop();
    expect(reader.mode).toBe('exact');
    await inOtherProcess(INSERT_ONCE, [path]);
    expect(reader.read()).not.toBe(before);
  });
});
