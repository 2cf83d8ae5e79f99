/**
 * npm run bench:verify, on PostgreSQL + Redis: the same measurement (bench/verify.ts, unchanged:
 * same wrk load, same JSON lines, the bare node:http limit measured in the same run), with the
 * twofold server configured by a YAML file (BENCH_CONFIG_FILE, read by bench/server.mjs) to use
 * `store: postgres://…` and `redis: redis://…`.
 *
 * The sessions are seeded exactly as verify.ts seeds them (bench/seed.ts: deterministic tokens and
 * ids) into a scratch SQLite file and moved into PostgreSQL with `twofold migrate`'s copy, so the
 * tokens verify.ts sends exist there. verify.ts still seeds its own SQLite file (unused here).
 *
 *   npx tsx bench/verify-postgres.ts [--store=postgres://postgres@127.0.0.1:5432/twofold_bench]
 *        [--redis=redis://127.0.0.1:6379] [--sessions=1000000] [any bench/verify.ts option]
 *
 * Without --store it (re)creates the database twofold_bench on 127.0.0.1:5432. Needs dist/ (npm run build).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { copySqliteToPostgres } from '../src/store/copy-store.js';
import { seedSessions } from './seed.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const log = (message: string) => process.stderr.write(`[bench-pg] ${message}\n`);

let store = '';
let redis = 'redis://127.0.0.1:6379';
let sessions = 1_000_000;
const passThrough: string[] = [];
for (const arg of process.argv.slice(2)) {
  const [key, value = ''] = arg.replace(/^--/, '').split(/=(.*)/s);
  if (key === 'store') store = value;
  else if (key === 'redis') redis = value;
  else if (key === 'sessions') sessions = Number(value.replace(/_/g, ''));
  else passThrough.push(arg);
}

async function freshDatabase(): Promise<string> {
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query('drop database if exists twofold_bench with (force)');
  await admin.query('create database twofold_bench');
  await admin.end();
  return 'postgres://postgres@127.0.0.1:5432/twofold_bench';
}

const scratch = resolve('/tmp/twofold-bench-pg');
rmSync(scratch, { recursive: true, force: true });
mkdirSync(scratch, { recursive: true });
if (!store) store = await freshDatabase();

log(`seeding ${sessions} sessions (SQLite scratch file), then copying them into PostgreSQL`);
const seeded = await seedSessions(join(scratch, 'seed'), sessions);
const copyStarted = performance.now();
const copied = await copySqliteToPostgres(join(seeded.dataDir, 'twofold.db'), store);
log(
  `copied ${copied.map((c) => `${c.table}=${c.target}`).join(' ')} in ${Math.round((performance.now() - copyStarted) / 1000)}s; running verify.ts`,
);

const configFile = join(scratch, 'twofold.yaml');
// Quoted as JSON strings: valid YAML scalars whatever the URLs contain.
writeFileSync(configFile, `store: ${JSON.stringify(store)}\nredis: ${JSON.stringify(redis)}\n`);
const result = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'verify.ts'), `--sessions=${sessions}`, ...passThrough], {
  stdio: 'inherit',
  env: { ...process.env, BENCH_CONFIG_FILE: configFile },
});
process.exit(result.status ?? 1);
