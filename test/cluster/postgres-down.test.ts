import { afterAll, beforeAll, expect, it } from 'vitest';
import { issueSession } from '../../src/auth/sessions.js';
import { addUser } from '../../src/auth/users.js';
import type { User } from '../../src/store/store.js';
import { startHarness, type Harness } from '../support/harness.js';
import { blockDatabase, describeWithServices, unblockDatabase } from '../support/postgres.js';

/**
 * PostgreSQL goes away under a running node (the database refuses connections and every open one
 * is terminated): validation fails closed with 503 store_unavailable, never a 500 or an "allow",
 * /readyz turns red, and everything resumes by itself when the database is back.
 */

const CTX = { ip: '198.51.100.20', userAgent: 'outage test' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeWithServices('PostgreSQL down', {}, () => {
  let h: Harness;
  let alice: User;
  let cachedToken: string;
  let databaseName: string;

  const get = async (path: string, token?: string) => {
    const res = await fetch(`${h.baseUrl}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as Record<string, any>) : null };
  };

  beforeAll(async () => {
    h = await startHarness({ postgres: true, listen: true, realClock: true });
    databaseName = new URL((h.deps.config.store as { url: string }).url).pathname.slice(1);
    alice = await addUser(h.deps, { username: 'alice', password: 'correct horse battery staple', isAdmin: false }, null);
    cachedToken = (await issueSession(h.deps, alice, 'full', [{ method: 'pwd', at: Date.now() }], CTX)).token;
  });
  afterAll(async () => {
    if (databaseName) await unblockDatabase(databaseName).catch(() => undefined);
    await h?.close();
  });

  it('serves normally while the database answers', async () => {
    expect((await get('/readyz')).status).toBe(200);
    expect((await get('/api/v1/session', cachedToken)).status).toBe(200);
  });

  it('fails closed with 503 store_unavailable while it is down, and /readyz is red', async () => {
    const uncached = (await issueSession(h.deps, alice, 'full', [{ method: 'pwd', at: Date.now() }], CTX)).token;
    await blockDatabase(databaseName);
    const started = Date.now();

    const ready = await get('/readyz');
    expect(ready.status).toBe(503);

    // A session never seen by this node cannot be checked: refused, with the reason.
    const fresh = await get('/api/v1/session', uncached);
    expect(fresh).toEqual({ status: 503, body: { error: { code: 'store_unavailable', message: expect.any(String) } } });
    const gate = await fetch(`${h.baseUrl}/auth/request`, {
      headers: { authorization: `Bearer ${uncached}`, 'x-original-url': 'https://app.example.com/' },
    });
    expect(gate.status).toBe(503);
    expect(await gate.json()).toMatchObject({ error: { code: 'store_unavailable' } });

    // A sign-in attempt: 503 too, not 500.
    const login = await fetch(`${h.baseUrl}/api/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'correct horse battery staple' }),
    });
    expect(login.status).toBe(503);

    // A session this node validated a moment ago is trusted at most max_age_without_broadcast (1 s).
    await sleep(Math.max(0, 1100 - (Date.now() - started)));
    const statuses = new Set<number>();
    for (let i = 0; i < 20; i++) statuses.add((await get('/api/v1/session', cachedToken)).status);
    expect([...statuses]).toEqual([503]);
  });

  it('resumes by itself once the database is back', async () => {
    await unblockDatabase(databaseName);
    const deadline = Date.now() + 10_000;
    let ready = 0;
    while (Date.now() < deadline && (ready = (await get('/readyz')).status) !== 200) await sleep(100);
    expect(ready).toBe(200);
    expect((await get('/api/v1/session', cachedToken)).status).toBe(200);
  });

  it('a database that never answers (closed port) is 503 too, within the connect timeout', async () => {
    const closed = await startHarness({
      listen: true,
      realClock: true,
      overrides: { store: 'postgres://postgres@127.0.0.1:9/none', migrate_on_start: false },
    }).catch((err: Error) => err);
    // Start-up itself needs the database (it checks the schema): a clear error, not a hang.
    expect(closed).toBeInstanceOf(Error);
    expect((closed as Error).message).toMatch(/unavailable/);
  });
});
