import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { TouchBatch, TouchBatchWriter } from '../batched-touches.js';
import { sharedPragmas } from './connection-settings.js';

/**
 * The SQLite writes that need not hold up a request, on one thread with a second connection to the
 * file (one thread: each costs a V8 isolate, about 10 MB). docs/security/crash-safety.md.
 *
 * **WAL checkpoints.** SQLite runs a checkpoint inside the commit that crosses wal_autocheckpoint
 * (1,000 pages): it copies the WAL into the database file and fsyncs it, on the event loop, inside
 * whatever request made that commit. So the serving connection never checkpoints
 * (wal_autocheckpoint = 0); this thread runs a PASSIVE checkpoint every `checkpointIntervalMs`, which
 * never blocks readers or writers. A commit stays what it was (an append to the WAL, durable across
 * a process crash); only the copy into the database file moves. Should the thread fail, automatic
 * checkpoints come back on for the serving connection.
 *
 * **Sliding-expiry writes.** On the event loop each touch was a page read and a commit, 49 µs on
 * average and up to a few hundred (bench/README.md); with 100k sessions in use and a one-minute
 * touch interval that is about 1,700 commits a second (100k / 60 s) where every check waits. The batches of ../batched-touches.ts are written here,
 * 64 rows to a transaction, so a write of the serving connection (a sign-in, a revocation) waits at
 * most for one short transaction. A touch only moves the times forward (max), never a revoked
 * session's. These commits move the serving connection's data_version like any other connection's;
 * the session cache then evicts only what the log of changes names (cache-invalidations.ts), and a
 * touch logs nothing. Should the thread fail, batches are written by `fallback` (the serving connection).
 *
 * **CPU priority.** On Linux the thread runs `niceness` steps (default 10) below the process: a batch
 * of up to a thousand touches is written in one go, and on a small machine that time came from the
 * serving thread or the proxy in front of it. With 100k sessions in use (about 3,000 touches a
 * second), p99 of the checks fell from 4.5–5.8 ms to 3.4–4.8 ms (three A/B pairs, bench/README.md). No check waits
 * on these writes. A commit of the serving connection may wait for the thread's transaction in
 * progress (64 rows), which on a machine with no idle CPU takes longer at the lower priority.
 */
export interface BackgroundWriter {
  writeTouches: TouchBatchWriter;
  /** Writes the batches sent so far, then closes the thread's connection (the last one closing removes the WAL). */
  stop(): Promise<void>;
}

export interface BackgroundWriterOptions {
  synchronous: 'normal' | 'full';
  checkpointIntervalMs?: number;
  /** How much lower than the process's the thread's CPU priority is (nice steps, Linux; 0 = the same). */
  niceness?: number;
  /** Writes a batch of touches when the thread cannot. */
  fallback: TouchBatchWriter;
}

const ROWS_PER_TRANSACTION = 64;

/** One touch: times only move forward, and a revoked session is left alone. Parameters: lastSeenAt, idleExpiresAt, id. */
export const TOUCH_SQL =
  'UPDATE sessions SET last_seen_at = max(last_seen_at, ?), idle_expires_at = max(idle_expires_at, ?) WHERE id = ? AND revoked_at IS NULL';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
// Linux: a thread has a nice value of its own. This one is lowered, so a batch of touches or a
// checkpoint waits while the serving thread or the proxy in front of it wants the CPU.
try {
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  const os = require('node:os');
  os.setPriority(tid, Math.min(19, os.getPriority(tid) + workerData.niceness));
} catch {
  // not Linux: the thread keeps the process's priority
}
const db = new Database(workerData.path);
// The serving connection's settings (connection-settings.ts). A PASSIVE checkpoint never waits on the
// busy handler; a touch transaction waits for the serving connection's write.
for (const pragma of workerData.pragmas) db.pragma(pragma);
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // the next one tries again
  }
}, workerData.checkpointIntervalMs);
// Prepared with the first batch: the thread may start before the schema exists.
let touch;
const touchRows = db.transaction((ids, times, from, to) => {
  for (let i = from; i < to; i++) touch.run(times[2 * i], times[2 * i + 1], ids[i]);
});
parentPort.on('message', (message) => {
  if (message === 'stop') {
    clearInterval(timer);
    db.close();
    parentPort.close();
    return;
  }
  try {
    touch ??= db.prepare(workerData.touchSql);
    const { ids, times } = message;
    for (let from = 0; from < ids.length; from += workerData.rowsPerTransaction) {
      touchRows(ids, times, from, Math.min(ids.length, from + workerData.rowsPerTransaction));
    }
    parentPort.postMessage({ id: message.id });
  } catch (err) {
    parentPort.postMessage({ id: message.id, error: String((err && err.message) || err) });
  }
});
`;

/**
 * Starts the thread for the SQLite file at `path`, and turns automatic checkpoints off on `serving`
 * once it runs.
 */
export function startBackgroundWriter(
  serving: { pragma(source: string): unknown },
  path: string,
  options: BackgroundWriterOptions,
): BackgroundWriter {
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: {
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      path,
      pragmas: sharedPragmas(options.synchronous),
      checkpointIntervalMs: options.checkpointIntervalMs ?? 1000,
      rowsPerTransaction: ROWS_PER_TRANSACTION,
      touchSql: TOUCH_SQL,
      niceness: options.niceness ?? 10,
    },
  });
  // A server that is closing does not wait for it, unless a batch is on its way (below).
  worker.unref();
  let stopped = false;
  let failed = false;
  let nextId = 0;
  const waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));

  // The serving connection may be closed by the time the thread starts or ends (a short CLI command).
  const setAutocheckpoint = (pages: number) => {
    try {
      if (!stopped) serving.pragma(`wal_autocheckpoint = ${pages}`);
    } catch {
      // closed: nothing left to checkpoint
    }
  };
  const fail = (err: Error) => {
    failed = true;
    setAutocheckpoint(1000);
    for (const { reject } of waiting.values()) reject(err);
    waiting.clear();
  };
  worker.once('online', () => setAutocheckpoint(0));
  worker.once('error', fail);
  worker.once('exit', () => fail(new Error('the background SQLite thread ended')));
  worker.on('message', (message: { id: number; error?: string }) => {
    const waiter = waiting.get(message.id);
    waiting.delete(message.id);
    if (waiting.size === 0 && !stopped) worker.unref();
    if (message.error === undefined) waiter?.resolve();
    else waiter?.reject(new Error(message.error));
  });

  return {
    writeTouches(batch: TouchBatch) {
      if (failed || stopped) return options.fallback(batch);
      const id = nextId++;
      return new Promise<void>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        worker.ref();
        // Copied to the thread (structured clone), not transferred: this process reads the batch until it is written.
        worker.postMessage({ id, ids: batch.ids, times: batch.times });
      });
    },
    stop() {
      if (stopped) return exited;
      stopped = true;
      // Held by the thread until it has closed: a process awaiting this must not find its event loop
      // empty. Messages are handled in order, so the batches sent before are written first.
      worker.ref();
      worker.postMessage('stop');
      return exited;
    },
  };
}
