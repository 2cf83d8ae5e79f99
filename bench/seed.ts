/**
 * Seeds a twofold data directory with one user and N valid sessions, fast: the user goes through
 * addUser (one argon2 hash), the sessions through one prepared INSERT in big transactions on the
 * same SQLite file, before the server opens it. Tokens are deterministic (SHA-256 of a counter,
 * base64url, 43 characters), so token files can be rebuilt without the database.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { createDeps } from '../src/app.js';
import { addUser } from '../src/auth/users.js';
import { loadConfig } from '../src/config.js';
import { hashToken, looksLikeSecretToken, type SessionId } from '../src/core/ids.js';
import { startSession } from '../src/core/session/session.js';
import { fromSession } from '../src/store/kysely/rows.js';

/**
 * The browser every seeded session was signed in with. Requests must carry it (and come from
 * 127.0.0.1): continuous evaluation revokes a session presented by a different browser family.
 */
export const BENCH_USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

export const benchToken = (i: number): string => createHash('sha256').update(`twofold-bench-token-${i}`).digest('base64url');

/** A small deterministic PRNG (mulberry32), so samples and offsets are the same on every run. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SeedResult {
  dataDir: string;
  sessions: number;
  seedSeconds: number;
  dbBytes: number;
}

/**
 * Sessions look like a steady state: full AAL2 sessions (password + TOTP) signed in 10 minutes ago,
 * each last seen at a point spread evenly over the last touch interval (1 minute by default), so
 * during a run the throttled touch write fires at the rate a busy deployment would see.
 */
export async function seedSessions(dataDir: string, count: number, now = Date.now()): Promise<SeedResult> {
  const started = performance.now();
  rmSync(dataDir, { recursive: true, force: true, maxRetries: 5 });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const config = loadConfig({ env: {}, overrides: { data_dir: dataDir, public_url: 'http://127.0.0.1', log_level: 'warn' } });
  const deps = await createDeps(config);
  const user = await addUser(deps, { username: 'bench', password: 'load test: correct horse battery staple 2f', isAdmin: false }, null);
  await deps.store.close();

  const db = new BetterSqlite3(config.sqlitePath);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -262144'); // 256 MiB page cache while seeding only
  const insert = db.prepare(
    `INSERT INTO sessions (id, token_hash, user_id, kind, aal, amr, auth_time, created_at, last_seen_at, idle_expires_at, expires_at, ip, user_agent, revoked_at, revoked_reason)
     VALUES (@id, @token_hash, @user_id, @kind, @aal, @amr, @auth_time, @created_at, @last_seen_at, @idle_expires_at, @expires_at, @ip, @user_agent, @revoked_at, @revoked_reason)`,
  );
  const lifetimes = config.session;
  const signedInAt = now - 10 * 60_000;
  const random = prng(42);
  const batch = 50_000;
  const insertBatch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const token = benchToken(i);
      if (i === 0 && !looksLikeSecretToken(token)) throw new Error(`bench token "${token}" is not a valid secret token`);
      const session = startSession(
        {
          id: `ses_${createHash('sha256').update(`twofold-bench-id-${i}`).digest('base64url').slice(0, 16)}` as SessionId,
          userId: user.id,
          kind: 'full',
          amr: [
            { method: 'pwd', at: signedInAt },
            { method: 'otp', at: signedInAt },
          ],
          now: signedInAt,
          ip: '127.0.0.1',
          userAgent: BENCH_USER_AGENT,
        },
        lifetimes,
      );
      session.lastSeenAt = now - Math.floor(random() * lifetimes.touchIntervalMs);
      session.idleExpiresAt = Math.min(session.lastSeenAt + lifetimes.idleTimeoutMs, session.expiresAt);
      insert.run(fromSession(session, hashToken(token)));
    }
  });
  for (let from = 0; from < count; from += batch) insertBatch(from, Math.min(count, from + batch));
  db.pragma('wal_checkpoint(TRUNCATE)');
  const dbBytes = (db.prepare('SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()').pluck().get() as number) ?? 0;
  db.close();
  return { dataDir, sessions: count, seedSeconds: (performance.now() - started) / 1000, dbBytes };
}

/** Writes `count` tokens drawn without repetition from sessions 0..total-1 (all of them, shuffled, when count >= total). */
export function writeTokenFile(path: string, total: number, count: number, seed = 7): number {
  const random = prng(seed);
  const n = Math.min(count, total);
  let indexes: number[];
  if (n === total) {
    indexes = Array.from({ length: total }, (_, i) => i);
  } else {
    const picked = new Set<number>();
    while (picked.size < n) picked.add(Math.floor(random() * total));
    indexes = [...picked];
  }
  const lines = new Array<string>(n);
  for (let i = 0; i < n; i++) lines[i] = benchToken(indexes[i]!);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return n;
}

export const tokenFilePath = (dir: string, name: string) => join(dir, name);
