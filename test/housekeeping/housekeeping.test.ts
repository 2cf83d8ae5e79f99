import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuthDeps } from '../../src/auth/deps.js';
import { issueSession } from '../../src/auth/sessions.js';
import { addUser } from '../../src/auth/users.js';
import { loadConfig } from '../../src/config.js';
import { runHousekeeping } from '../../src/housekeeping/housekeeping.js';
import type { User } from '../../src/store/store.js';
import { runCli, withCliStore } from '../support/cli.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * Housekeeping (src/housekeeping/housekeeping.ts) as a server and an operator use it: a pass
 * deletes sessions long past their end (in batches), keeps live ones and the audit log; the server
 * runs passes on its own every housekeeping.interval; `twofold housekeeping` runs one now.
 */

const DAY = 24 * 60 * 60_000;
const CTX = { ip: '203.0.113.7', userAgent: 'housekeeping test' };
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function signIn(deps: AuthDeps, user: User): Promise<string> {
  const now = deps.clock.now();
  const amr = [
    { method: 'pwd' as const, at: now },
    { method: 'otp' as const, at: now },
  ];
  return (await issueSession(deps, user, 'full', amr, CTX)).session.id;
}

describe('housekeeping', () => {
  it('deletes sessions past keep_sessions in batches, and keeps live sessions and the audit log', async () => {
    h = await startHarness({ overrides: { housekeeping: { interval: '0' } } });
    const user = await addUser(h.deps, { username: 'hilda', password: 'correct horse battery staple', isAdmin: false }, null);
    const old: string[] = [];
    for (let i = 0; i < 5; i++) old.push(await signIn(h.deps, user));
    // 12 hours of absolute lifetime, then the 30 days sessions are kept: past both, they go.
    h.clock.advance(31 * DAY);
    const live = await signIn(h.deps, user);
    const events = (await h.deps.store.events.list({ userId: user.id, limit: 100 })).length;

    const report = await runHousekeeping(h.deps, { batch: 2 });
    expect(report).toEqual({ sessions: 5, pendingLogins: 0, webauthnChallenges: 0, webhookDeliveries: 0 });
    for (const id of old) expect(await h.deps.store.sessions.findById(id as never)).toBeUndefined();
    expect(await h.deps.store.sessions.findById(live as never)).toBeDefined();
    expect((await h.deps.store.events.list({ userId: user.id, limit: 100 })).length).toBe(events);
    expect(await runHousekeeping(h.deps)).toMatchObject({ sessions: 0 });
  });

  it('runs by itself in a server every housekeeping.interval', async () => {
    h = await startHarness({ listen: true, overrides: { housekeeping: { interval: '1s' } } });
    const user = await addUser(h.deps, { username: 'ivo', password: 'correct horse battery staple', isAdmin: false }, null);
    const old = await signIn(h.deps, user);
    h.clock.advance(31 * DAY);
    let gone = false;
    for (let i = 0; i < 40 && !gone; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      gone = (await h.deps.store.sessions.findById(old as never)) === undefined;
    }
    expect(gone).toBe(true);
  });

  it('is configured with durations; 0 turns the timer off', () => {
    const defaults = loadConfig({ env: {}, cwd: '/tmp' }).housekeeping;
    expect(defaults).toEqual({ intervalMs: 60 * 60_000, keepSessionsMs: 30 * DAY, keepWebhookDeliveriesMs: 30 * DAY });
    expect(loadConfig({ env: {}, cwd: '/tmp', overrides: { housekeeping: { interval: '0' } } }).housekeeping.intervalMs).toBe(0);
    expect(() => loadConfig({ env: {}, cwd: '/tmp', overrides: { housekeeping: { keep_sessions: 'soon' } } })).toThrow(
      /housekeeping.keep_sessions: "soon" is not a duration/,
    );
    expect(() => loadConfig({ env: {}, cwd: '/tmp', overrides: { housekeeping: { keep_session: '1d' } } })).toThrow(/keep_session/);
  });

  it('`twofold housekeeping` runs one pass now and says what it deleted', async () => {
    const root = mkdtempSync(join(tmpdir(), 'twofold-housekeeping-'));
    const where = { root, dataDir: join(root, 'data') };
    try {
      await withCliStore(where, async (deps) => {
        const user = await addUser(deps, { username: 'jo', password: 'correct horse battery staple', isAdmin: false }, null);
        // Signed in 40 days ago: the store's clock is real here, so the session is made in the past.
        const longAgo = { ...deps, clock: { now: () => Date.now() - 40 * DAY } };
        await signIn(longAgo as AuthDeps, user);
        await signIn(deps, user);
      });
      const json = await runCli(['housekeeping', '--json'], where);
      expect(json.code, json.stderr).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual({ sessions: 1, pendingLogins: 0, webauthnChallenges: 0, webhookDeliveries: 0 });
      const text = await runCli(['housekeeping'], where);
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toContain('Deleted 0 ended session(s)');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
