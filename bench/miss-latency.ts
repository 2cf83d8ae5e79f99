/**
 * The cache-miss path alone, sequentially: how long one validation takes when the session is not
 * in the node's cache (lookup by token hash, lookup of the user, and the sliding-expiry write), on
 * SQLite and on PostgreSQL, over the same seeded sessions. Prints one JSON line per store.
 *
 *   npx tsx bench/miss-latency.ts [--sessions=100000] [--lookups=2000] [--postgres=postgres://postgres@127.0.0.1:5432/postgres]
 *
 * Seeds with bench/seed.ts into a scratch SQLite file, copies it into a fresh database
 * twofold_bench_miss on that server (dropped at the end), then asks each store for `lookups`
 * distinct sessions, a new deps (empty cache) per store.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { createDeps } from '../src/app.js';
import { authenticate } from '../src/auth/sessions.js';
import { loadConfig } from '../src/config.js';
import { copySqliteToPostgres } from '../src/store/copy-store.js';
import { benchToken, prng, seedSessions } from './seed.js';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split(/=(.*)/s).slice(0, 2)));
const sessions = Number(args.sessions ?? 100_000);
const lookups = Number(args.lookups ?? 2000);
const server = new URL(args.postgres ?? 'postgres://postgres@127.0.0.1:5432/postgres');
const scratch = '/tmp/twofold-bench-miss';

async function admin(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: server.href });
  await client.connect();
  await client.query(text);
  await client.end();
}

async function measure(store: string): Promise<Record<string, unknown>> {
  const config = loadConfig({ env: {}, cwd: scratch, overrides: { data_dir: join(scratch, 'seed'), store, log_level: 'error' } });
  const deps = await createDeps(config);
  const random = prng(11);
  const times: number[] = [];
  let authenticated = 0;
  for (let i = 0; i < lookups; i++) {
    const token = benchToken(Math.floor(random() * sessions));
    const started = performance.now();
    const result = await authenticate(deps, token);
    times.push(performance.now() - started);
    if (result.kind === 'authenticated') authenticated++;
  }
  await deps.store.close();
  times.sort((a, b) => a - b);
  const at = (q: number) => Math.round(times[Math.min(times.length - 1, Math.floor(q * times.length))]! * 1000) / 1000;
  return {
    store: store.split(':')[0],
    sessions,
    lookups,
    authenticated,
    p50_ms: at(0.5),
    p90_ms: at(0.9),
    p99_ms: at(0.99),
    max_ms: at(1),
  };
}

rmSync(scratch, { recursive: true, force: true });
const seeded = await seedSessions(join(scratch, 'seed'), sessions);
const database = 'twofold_bench_miss';
await admin(`drop database if exists ${database} with (force)`);
await admin(`create database ${database}`);
const target = new URL(server.href);
target.pathname = `/${database}`;
try {
  await copySqliteToPostgres(join(seeded.dataDir, 'twofold.db'), target.href);
  for (const store of [`sqlite:${join(seeded.dataDir, 'twofold.db')}`, target.href]) {
    process.stdout.write(`${JSON.stringify(await measure(store))}\n`);
  }
} finally {
  await admin(`drop database if exists ${database} with (force)`);
  rmSync(scratch, { recursive: true, force: true });
}
