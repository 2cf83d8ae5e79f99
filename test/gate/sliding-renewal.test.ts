import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSession } from '../../src/auth/sessions.js';
import { addUser } from '../../src/auth/users.js';
import type { User } from '../../src/store/store.js';
import { cookieNames } from '../../src/http/cookies.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * Sliding renewal through the gate: each allowed forward-auth check counts as activity, so a user
 * working in a proxied app is not signed out after the idle timeout (30 min), while the write that
 * records it happens at most once per touch interval (1 min) and the absolute lifetime (12 h) still
 * ends the session. What was written is read from the SQLite file by a second connection.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

let h: Harness;
let observer: BetterSqlite3.Database;
let user: User;

interface Row {
  last_seen_at: number;
  idle_expires_at: number;
  expires_at: number;
}
const stored = (id: string) =>
  observer.prepare('SELECT last_seen_at, idle_expires_at, expires_at FROM sessions WHERE id = ?').get(id) as Row;
/** Moves whenever another connection (twofold's) commits: no movement means no write at all. */
const commits = () => observer.pragma('data_version', { simple: true }) as number;
/**
 * Touches are written in batches, 100 ms apart, on a thread of their own (src/store/batched-touches.ts,
 * sqlite/background-writer.ts): what the database holds is read once the batch of the checks before has landed.
 */
const settled = () => new Promise((resolve) => setTimeout(resolve, 300));

async function signIn() {
  const now = h.clock.now();
  return issueSession(
    h.deps,
    user,
    'full',
    [
      { method: 'pwd', at: now },
      { method: 'otp', at: now },
    ],
    // The context inject's requests come from (continuous evaluation compares it on every check).
    { ip: '127.0.0.1', userAgent: 'lightMyRequest' },
  );
}

/** One check as the proxy sends it: nginx (/auth/request) or Caddy/Traefik (/auth/forward). */
function check(token: string, endpoint: '/auth/request' | '/auth/forward' = '/auth/request') {
  const forwarded =
    endpoint === '/auth/request'
      ? { 'x-original-url': 'https://app.example.com/work' }
      : { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example.com', 'x-forwarded-uri': '/work' };
  return h.app.inject({
    method: 'GET',
    url: endpoint,
    headers: { ...forwarded, cookie: `${cookieNames(h.deps.config).session}=${token}` },
  });
}

beforeAll(async () => {
  h = await startHarness();
  user = await addUser(h.deps, { username: 'worker', password: 'correct horse battery staple', isAdmin: false }, null);
  observer = new BetterSqlite3(h.deps.config.sqlitePath, { readonly: true });
});

afterAll(async () => {
  observer?.close();
  await h?.close();
});

describe('sliding renewal through the gate', () => {
  it('extends the idle expiry, writing at most once per touch interval', async () => {
    const { session, token } = await signIn();
    const start = h.clock.now();
    await settled();
    expect(stored(session.id)).toMatchObject({ last_seen_at: start, idle_expires_at: start + 30 * MINUTE });
    const quiet = commits();

    // Checks within the first minute only read: not one commit.
    for (const at of [1, 10 * SECOND, 30 * SECOND, MINUTE - 1]) {
      h.clock.set(start + at);
      expect((await check(token)).statusCode).toBe(200);
      expect((await check(token, '/auth/forward')).statusCode).toBe(200);
    }
    await settled();
    expect(commits()).toBe(quiet);
    expect(stored(session.id).last_seen_at).toBe(start);

    // A minute after the last write, a check writes once and slides the idle expiry.
    h.clock.set(start + MINUTE);
    expect((await check(token)).statusCode).toBe(200);
    await settled();
    const slid = commits();
    expect(slid).not.toBe(quiet);
    await settled();
    expect(stored(session.id)).toMatchObject({ last_seen_at: start + MINUTE, idle_expires_at: start + 31 * MINUTE });
    for (let i = 0; i < 20; i++) expect((await check(token)).statusCode).toBe(200);
    h.clock.set(start + MINUTE + 59 * SECOND);
    expect((await check(token, '/auth/forward')).statusCode).toBe(200);
    await settled();
    expect(commits()).toBe(slid);

    // /auth/forward slides it as well.
    h.clock.set(start + 2 * MINUTE);
    expect((await check(token, '/auth/forward')).statusCode).toBe(200);
    await settled();
    expect(stored(session.id)).toMatchObject({ last_seen_at: start + 2 * MINUTE, idle_expires_at: start + 32 * MINUTE });

    // Checked every 25 minutes, the session outlives the 30-minute idle timeout many times over...
    for (let i = 1; i <= 6; i++) {
      h.clock.set(start + 2 * MINUTE + i * 25 * MINUTE);
      expect((await check(token)).statusCode, `after ${i * 25} min`).toBe(200);
    }
    const last = h.clock.now();
    await settled();
    expect(stored(session.id)).toMatchObject({ last_seen_at: last, idle_expires_at: last + 30 * MINUTE });
    // ...and ends 30 idle minutes after the last check.
    h.clock.set(last + 30 * MINUTE - 1);
    await settled();
    const before = commits();
    h.clock.set(last + 30 * MINUTE);
    const idle = await check(token);
    expect(idle.statusCode).toBe(401);
    expect(idle.json().error.code).toBe('unauthenticated');
    expect((await check(token, '/auth/forward')).statusCode).toBe(302);
    await settled();
    expect(commits()).toBe(before);
  });

  it('still ends the session 12 h after sign-in, however often the gate is asked', async () => {
    const { session, token } = await signIn();
    const start = h.clock.now();
    for (let minutes = 20; minutes < 12 * 60; minutes += 20) {
      h.clock.set(start + minutes * MINUTE);
      expect((await check(token)).statusCode, `at ${minutes} min`).toBe(200);
    }
    // The last slide is capped at the absolute expiry.
    await settled();
    expect(stored(session.id)).toMatchObject({ idle_expires_at: start + 12 * HOUR, expires_at: start + 12 * HOUR });
    h.clock.set(start + 12 * HOUR - 1);
    expect((await check(token)).statusCode).toBe(200);
    h.clock.set(start + 12 * HOUR);
    expect((await check(token)).statusCode).toBe(401);
    expect((await check(token, '/auth/forward')).statusCode).toBe(302);
  });
});
