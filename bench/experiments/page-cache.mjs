// Experiment behind PAGE_CACHE_KIB (src/store/sqlite/connection-settings.ts): what a connection's
// page cache size costs and buys on the bench's SQLite file.
//
//   node bench/experiments/page-cache.mjs /tmp/twofold-bench/sessions-1000000/twofold.db
//
// Works on a copy of the file (beside it, removed at the end). Two connections, as in `twofold
// serve`: A serves (session reads), B commits touches as the background thread does. For each
// cache size it prints, in µs:
// - drop: A's first statement after B committed (SQLite then drops A's whole page cache), after A
//   read `WARM` sessions by id (default 3,000) since the previous commit;
// - lookup: A's read of a random session by token hash, with B committing every 2,000 reads.
import { copyFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';

const Database = createRequire(import.meta.url)('better-sqlite3');
const source = process.argv[2];
if (!source) throw new Error('usage: page-cache.mjs <twofold.db of the bench, e.g. /tmp/twofold-bench/sessions-1000000/twofold.db>');
const path = `${source}.page-cache-copy`;
copyFileSync(source, path);
const warm = Number(process.env.WARM ?? 3000);

const a = new Database(path);
const b = new Database(path);
for (const db of [a, b]) {
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
}
a.pragma('wal_autocheckpoint = 0');
const ids = b.prepare('SELECT id FROM sessions LIMIT 20000').pluck().all();
const hashes = b.prepare('SELECT token_hash FROM sessions').pluck().all();
const touch = b.prepare('UPDATE sessions SET last_seen_at = max(last_seen_at, ?), idle_expires_at = max(idle_expires_at, ?) WHERE id = ?');
let round = 0;
const commit = b.transaction(() => {
  const at = Date.now() + round;
  for (let i = 0; i < 64; i++) touch.run(at, at, ids[(round * 64 + i) % ids.length]);
  round++;
});
const dataVersion = a.prepare('PRAGMA data_version').pluck();
const byId = a.prepare('SELECT * FROM sessions WHERE id = ?');
const byHash = a.prepare('SELECT * FROM sessions WHERE token_hash = ?');
const micros = (run) => {
  const start = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - start) / 1e3;
};
const quantile = (values, q) => values.slice().sort((x, y) => x - y)[Math.floor(q * (values.length - 1))];
const summary = (values) => ({
  p50: +quantile(values, 0.5).toFixed(1),
  p90: +quantile(values, 0.9).toFixed(1),
  max: +quantile(values, 1).toFixed(1),
});

try {
  for (const kib of [16000, 2000, 1024, 256]) {
    a.pragma(`cache_size = -${kib}`);
    const drop = [];
    for (let n = 0; n < 200; n++) {
      for (let i = 0; i < warm; i++) byId.get(ids[(i * 37 + n) % ids.length]);
      commit();
      drop.push(micros(() => dataVersion.get()));
      if (n % 50 === 49) b.pragma('wal_checkpoint(PASSIVE)');
    }
    const lookup = [];
    for (let n = 0; n < 40000; n++) {
      if (n % 2000 === 0) {
        commit();
        dataVersion.get();
      }
      const hash = hashes[Math.floor(Math.random() * hashes.length)];
      lookup.push(micros(() => byHash.get(hash)));
    }
    console.log(JSON.stringify({ cache_kib: kib, warm_reads: warm, drop_us: summary(drop), lookup_us: summary(lookup) }));
  }
} finally {
  a.close();
  b.close();
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
}
