import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * WAL checkpoints on a thread of their own. SQLite runs a checkpoint inside the commit that crosses
 * wal_autocheckpoint (1,000 pages): it copies the WAL into the database file and fsyncs it, on the
 * event loop, inside whatever request made that commit. With many active sessions the touch writes
 * cross it about twice a second, and every request queued behind that commit waits (the p99 of the
 * 1M-session bench cases). So the serving connection never checkpoints (wal_autocheckpoint = 0);
 * a second connection on a worker thread runs a PASSIVE checkpoint every `intervalMs`, which never
 * blocks readers or writers. A commit stays what it was (an append to the WAL, durable across a
 * process crash); only the copy into the database file moves. docs/security/crash-safety.md.
 */
export interface BackgroundCheckpoints {
  /** Closes the thread's connection (the last one closing checkpoints and removes the WAL); resolves once it has. */
  stop(): Promise<void>;
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('synchronous = ' + workerData.synchronous);
db.pragma('busy_timeout = 0');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message) });
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

/**
 * Starts the checkpoint thread for the SQLite file at `path`, and turns automatic checkpoints off
 * on `serving` once it runs. Should the thread fail, automatic checkpoints come back on.
 */
export function startBackgroundCheckpoints(
  serving: { pragma(source: string): unknown },
  path: string,
  options: { synchronous: 'normal' | 'full'; intervalMs?: number },
): BackgroundCheckpoints {
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: {
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      path,
      synchronous: options.synchronous === 'full' ? 'FULL' : 'NORMAL',
      intervalMs: options.intervalMs ?? 1000,
    },
  });
  // A server that is closing does not wait for it.
  worker.unref();
  let stopped = false;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const inline = () => {
    if (!stopped) serving.pragma('wal_autocheckpoint = 1000');
  };
  worker.once('online', () => {
    if (!stopped) serving.pragma('wal_autocheckpoint = 0');
  });
  worker.once('error', inline);
  worker.once('exit', inline);
  return {
    stop() {
      stopped = true;
      // Held by the thread until it has closed: a process awaiting this must not find its event loop empty.
      worker.ref();
      worker.postMessage('stop');
      return exited;
    },
  };
}
