import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate, issueSession, type Authentication } from '../../src/auth/sessions.js';
import { addUser } from '../../src/auth/users.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * A check whose touch is due (once per session per `session.touch_interval`) answers at once when the
 * store only queues the write (batched-touches.ts, as `twofold serve` opens SQLite and PostgreSQL):
 * no promise on its way, as for any other cached check. The times still slide, in the cache at once
 * and in the database with the next batch.
 */

const TOUCH_INTERVAL_MS = 60_000;
let h: Harness;
let token: string;

beforeAll(async () => {
  h = await startHarness({ overrides: { session: { touch_interval: '1m' } } });
  const user = await addUser(h.deps, { username: 'quinn', password: 'correct horse battery staple', isAdmin: false }, null);
  const at = h.clock.now();
  const factors = [
    { method: 'pwd' as const, at },
    { method: 'otp' as const, at },
  ];
  token = (await issueSession(h.deps, user, 'full', factors, { ip: '127.0.0.1', userAgent: 'test' })).token;
});

afterAll(async () => {
  await h?.close();
});

/** The answer, which must not be a promise. */
function answeredAtOnce(answer: Authentication | Promise<Authentication>): Authentication {
  expect(answer).not.toBeInstanceOf(Promise);
  return answer as Authentication;
}

/** The times the SQLite file holds, read on a connection of its own. */
function stored(sessionId: string): { lastSeenAt: number; idleExpiresAt: number } {
  const db = new BetterSqlite3(h.deps.config.sqlitePath, { readonly: true });
  try {
    const row = db.prepare('SELECT last_seen_at, idle_expires_at FROM sessions WHERE id = ?').get(sessionId) as {
      last_seen_at: number;
      idle_expires_at: number;
    };
    return { lastSeenAt: Number(row.last_seen_at), idleExpiresAt: Number(row.idle_expires_at) };
  } finally {
    db.close();
  }
}

describe('a due touch, queued', () => {
  it('answers without a promise, slides the times in the cache, and writes them with the next batch', async () => {
    const first = await authenticate(h.deps, token);
    expect(first.kind).toBe('authenticated');
    if (first.kind !== 'authenticated') return;
    const id = first.session.id;
    const before = stored(id);

    h.clock.advance(TOUCH_INTERVAL_MS + 1_000);
    const touchedAt = h.clock.now();
    const due = answeredAtOnce(authenticate(h.deps, token));
    expect(due.kind).toBe('authenticated');
    if (due.kind !== 'authenticated') return;
    expect(due.session.lastSeenAt).toBe(touchedAt);
    expect(due.session.idleExpiresAt).toBeGreaterThan(before.idleExpiresAt);

    // The cache holds the new times: the next check, not due, shows them.
    h.clock.advance(1_000);
    const next = answeredAtOnce(authenticate(h.deps, token));
    expect(next.kind === 'authenticated' && next.session.lastSeenAt).toBe(touchedAt);

    // And the batch reaches the file (every 100 ms).
    await expect.poll(() => stored(id).lastSeenAt, { timeout: 5_000 }).toBe(touchedAt);
    expect(stored(id).idleExpiresAt).toBe(due.session.idleExpiresAt);
  });
});
