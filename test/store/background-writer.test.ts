import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { TouchBatch } from '../../src/store/batched-touches.js';
import { startBackgroundWriter } from '../../src/store/sqlite/background-writer.js';
import { WAL_SIZE_LIMIT } from '../../src/store/sqlite/connection-settings.js';
import { applyConnectionPragmas } from '../../src/store/sqlite/open.js';

/**
 * The serving connection never checkpoints inside a commit; a worker thread copies the WAL into the
 * database file instead (src/store/sqlite/background-writer.ts). Seen from the files: right after
 * a 6 MB commit (past SQLite's 1,000-page automatic checkpoint) the database file has not grown, and
 * a moment later it has, without the serving connection doing anything.
 */
const waitFor = async (what: string, condition: () => boolean, ms = 10_000) => {
  const until = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** These tests write no touches through the thread's fallback. */
const refuse = async () => {
  throw new Error('no fallback expected');
};

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A fresh SQLite file in WAL mode, opened as twofold's serving connection is. */
function servingConnection(): { path: string; db: BetterSqlite3.Database } {
  dir = mkdtempSync(join(tmpdir(), 'twofold-checkpoint-'));
  const path = join(dir, 'twofold.db');
  const db = new BetterSqlite3(path);
  applyConnectionPragmas(db, 'normal');
  return { path, db };
}

describe('WAL checkpoints and touches on a worker thread', () => {
  it('moves the checkpoint out of the commit, and still copies the WAL into the file', async () => {
    const { path, db } = servingConnection();
    db.exec('CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)');
    const checkpoints = startBackgroundWriter(db, path, { synchronous: 'normal', checkpointIntervalMs: 200, fallback: refuse });
    await waitFor('the worker', () => db.pragma('wal_autocheckpoint', { simple: true }) === 0);
    await waitFor('the first checkpoint', () => statSync(path).size > 0);
    const before = statSync(path).size;

    const insert = db.prepare('INSERT INTO blobs (data) VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < 1500; i++) insert.run(Buffer.alloc(4096, i % 256));
    })();
    // SQLite's own automatic checkpoint would have run inside that commit and grown the file.
    expect(statSync(path).size).toBeLessThan(before + 1024 * 1024);
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(6 * 1024 * 1024);

    await waitFor('the background checkpoint', () => statSync(path).size > before + 6 * 1024 * 1024);
    expect(db.prepare('SELECT count(*) FROM blobs').pluck().get()).toBe(1500);
    await checkpoints.stop();
    db.close();
  });

  it('gives automatic checkpoints and touches back to the connection if the thread cannot open the file', async () => {
    const { path, db } = servingConnection();
    const fallen: string[][] = [];
    const checkpoints = startBackgroundWriter(db, join(dir, 'missing', 'nothing.db'), {
      synchronous: 'normal',
      fallback: async (batch) => void fallen.push([...batch.ids]),
    });
    // A batch sent while the thread was failing is refused (its touches are lost, batched-touches.ts
    // reports them); it never hangs.
    await expect(checkpoints.writeTouches(TouchBatch.of([['ses_0', { lastSeenAt: 1, idleExpiresAt: 2 }]]))).rejects.toThrow(/directory/);
    // Once the failed thread is gone, automatic checkpoints are back on the serving connection...
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    // ...and touches go to the fallback (the serving connection).
    await checkpoints.writeTouches(TouchBatch.of([['ses_a', { lastSeenAt: 1, idleExpiresAt: 2 }]]));
    expect(fallen).toEqual([['ses_a']]);
    await checkpoints.stop();
    db.close();
  });

  // Linux only, where a thread has its own nice value (CI runs on Linux).
  it.runIf(process.platform === 'linux')("runs below the serving thread's CPU priority", async () => {
    const { path, db } = servingConnection();
    // Field 19 of /proc/self/task/TID/stat, counted after the parenthesised name (which may hold spaces).
    const niceOf = (tid: string) => Number(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ')[16]);
    const before = new Set(readdirSync('/proc/self/task'));
    const serving = getPriority();
    const writer = startBackgroundWriter(db, path, { synchronous: 'normal', fallback: refuse });
    // The thread lowers its own priority as its script starts, a moment after it is online.
    const lowered = () => readdirSync('/proc/self/task').some((tid) => !before.has(tid) && niceOf(tid) === Math.min(19, serving + 10));
    await waitFor("the thread's lowered priority", lowered);
    expect(lowered()).toBe(true);
    // The serving thread keeps its own.
    expect(getPriority()).toBe(serving);
    await writer.stop();
    db.close();
  });

  it('cuts the WAL file back after a burst, once it has been copied and starts over', async () => {
    const { path, db } = servingConnection();
    db.exec('CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)');
    const writer = startBackgroundWriter(db, path, { synchronous: 'normal', checkpointIntervalMs: 100, fallback: refuse });
    await waitFor('the worker', () => db.pragma('wal_autocheckpoint', { simple: true }) === 0);
    // A burst larger than the limit, in one transaction: the WAL grows past it.
    const insert = db.prepare('INSERT INTO blobs (data) VALUES (?)');
    const rows = Math.ceil((WAL_SIZE_LIMIT * 1.5) / 4096);
    db.transaction(() => {
      for (let i = 0; i < rows; i++) insert.run(Buffer.alloc(4096, i % 256));
    })();
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(WAL_SIZE_LIMIT);
    // Once the thread's checkpoint has copied it all, the next write starts the WAL over and cuts the file back.
    await waitFor('the checkpoint', () => statSync(path).size >= rows * 4096);
    // Each write changes the row (SQLite skips writing a page whose content would not change).
    const small = db.prepare('UPDATE blobs SET data = ? WHERE id = 1');
    let writes = 0;
    await waitFor('the WAL to start over', () => {
      small.run(Buffer.from(`write ${++writes}`));
      return statSync(`${path}-wal`).size <= WAL_SIZE_LIMIT;
    });
    expect(db.prepare('SELECT count(*) FROM blobs').pluck().get()).toBe(rows);
    await writer.stop();
    db.close();
  });
});
