import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { hashToken } from '../../src/core/ids.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  enrollLiveUser,
  ensureBuilt,
  LIVE_PASSWORD,
  LIVE_USER_AGENT,
  LiveClient,
  liveConfig,
  livePort,
  seedLiveUsers,
  startLiveServer,
  writeLiveConfig,
  type LiveServer,
  type LiveUser,
} from '../support/live-server.js';

/**
 * Crash safety (docs/security/crash-safety.md): the real server (`twofold serve`, SQLite in WAL
 * mode) under a concurrent load of sign-ins, validations, refresh-token rotations, recovery-code
 * uses and revocations is killed with SIGKILL at a seeded random moment, three times. After every
 * kill the SQLite file (as the kill left it) passes `PRAGMA integrity_check`, and the restarted
 * server still honours every write it had acknowledged (a 2xx answer received): revoked sessions
 * stay revoked, used recovery codes stay used, rotated refresh tokens stay spent (presenting one
 * is reuse: the family and its session end, docs/tokens.md), signed-in sessions still exist.
 * A request that was in flight at the kill proves nothing either way and is left out.
 */

const SEED = Number(process.env.TWOFOLD_CRASH_SEED ?? 20261127);
const ROUNDS = 3;
const USERS = 30;
const WORKERS = 6;
const GATE_URL = 'https://app.example.com/reports';

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with TWOFOLD_CRASH_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface CookieSession {
  username: string;
  token: string;
}
interface TokenFamily {
  /** Same for every refresh token of one sign-in. */
  id: number;
  username: string;
  accessToken: string;
  refreshToken: string;
}

/** What the server acknowledged, and therefore must still hold after any crash. */
const acked = {
  /** Signed in (2xx) and never sent for revocation: must still be valid. */
  liveSessions: new Map<string, CookieSession>(),
  liveFamilies: new Map<string, TokenFamily>(),
  /** Logged out with a 204: must stay refused. */
  revokedSessions: [] as CookieSession[],
  revokedFamilies: [] as TokenFamily[],
  /** Refresh tokens spent by an acknowledged rotation, with the family's token after it. */
  rotated: [] as Array<{ spent: string; next: TokenFamily }>,
  /** Sliding renewals: the idle expiries (ms) 200 answers reported per session token, rising, with when (performance.now()). */
  renewals: new Map<string, Array<{ at: number; idleExpiresAt: number }>>(),
  /** Recovery codes a 2xx sign-in used. */
  usedCodes: [] as Array<{ username: string; code: string }>,
};
const counts = {
  signIns: 0,
  tokenSignIns: 0,
  validations: 0,
  renewals: 0,
  refreshes: 0,
  revocations: 0,
  recoveryUses: 0,
  workersMidOperationAtKill: 0,
};

/**
 * Renewals are activity times, written in batches 100 ms apart on a thread of their own
 * (src/store/batched-touches.ts): a kill may lose the last batch, so the session ends up to one
 * touch interval sooner, never later (docs/security/crash-safety.md). Those acknowledged this long
 * before the kill must be on disk.
 */
const RENEWAL_WRITTEN_WITHIN_MS = 500;
/** When the server was last killed (performance.now()). */
let killedAt = 0;
/**
 * Sessions the load validates but never logs out, so that every round has renewals acknowledged
 * long enough before the kill to be checked on disk (the load logs out most other sessions first).
 */
const witnesses = new Set<string>();
const WITNESSES = 3;

let dataDir = '';
let familyIds = 0;
/** Recovery codes the load may spend in the current round (30 users x 10 codes last all rounds). */
let recoveryBudget = 0;
let configFile = '';
let server: LiveServer | undefined;
const users: LiveUser[] = [];
const busyUsers = new Set<string>();
const busyTokens = new Set<string>();
/** Answers that were neither the expected success nor a consequence of the kill. */
const unexpected: string[] = [];

const sessionCookie = (token: string) => ({ cookie: `${server!.cookies.session}=${token}` });

async function signIn(client: LiveClient, user: LiveUser, body: Record<string, unknown>, rng: () => number) {
  // Mostly TOTP (a few unspent steps per user at a time); now and then a recovery code, rationed so every round has some.
  const useRecovery = rng() < 0.1 && user.recoveryCodes.length > 0 && recoveryBudget > 0;
  let code = useRecovery ? undefined : user.device.nextCode();
  let method: 'totp' | 'recovery_code' = 'totp';
  if (code === undefined) {
    if (!useRecovery) return undefined;
    code = user.recoveryCodes.pop()!;
    recoveryBudget--;
    method = 'recovery_code';
  }
  const login = await client.request('POST', '/api/v1/login', { body: { username: user.username, password: LIVE_PASSWORD, ...body } });
  if (login.status !== 200 || login.json?.state !== 'second_factor_required') {
    unexpected.push(`login ${user.username}: ${login.status} ${JSON.stringify(login.json)}`);
    return undefined;
  }
  const pending = login.json.pending_token as string | undefined;
  const done = await client.request('POST', '/api/v1/login/second-factor', {
    body: { method, code },
    ...(pending ? { bearer: pending } : {}),
  });
  if (done.status !== 200 || done.json?.state !== 'authenticated') {
    unexpected.push(`second factor (${method}) ${user.username}: ${done.status} ${JSON.stringify(done.json)}`);
    return undefined;
  }
  if (method === 'recovery_code') {
    acked.usedCodes.push({ username: user.username, code });
    counts.recoveryUses++;
  }
  return done.json;
}

/** One operation of the mixed load, chosen by the worker's PRNG. Throws when the server is gone. */
async function operate(rng: () => number): Promise<void> {
  const roll = rng();
  const pick = <T>(items: T[]): T | undefined => items[Math.floor(rng() * items.length)];
  if (roll < 0.35) {
    const tokens = roll >= 0.25;
    const user = pick(users.filter((u) => !busyUsers.has(u.username)));
    if (!user) return;
    busyUsers.add(user.username);
    try {
      const client = new LiveClient(server!);
      const answer = await signIn(client, user, tokens ? { session_type: 'tokens' } : {}, rng);
      if (!answer) return;
      if (tokens) {
        const family = { id: ++familyIds, username: user.username, accessToken: answer.access_token, refreshToken: answer.refresh_token };
        acked.liveFamilies.set(family.refreshToken, family);
        counts.tokenSignIns++;
      } else {
        const token = client.sessionToken!;
        acked.liveSessions.set(token, { username: user.username, token });
        counts.signIns++;
      }
    } finally {
      busyUsers.delete(user.username);
    }
    return;
  }
  if (roll < 0.6) {
    // Validation: the forward-auth check (it renews the session's idle expiry now and then) and the API's view.
    const session = pick([...acked.liveSessions.values()].filter((s) => !busyTokens.has(s.token)));
    if (!session) return;
    busyTokens.add(session.token);
    try {
      if (rng() < 0.5) {
        const gate = await fetch(`${server!.baseUrl}/auth/request`, {
          headers: { ...sessionCookie(session.token), 'x-original-url': GATE_URL, 'user-agent': LIVE_USER_AGENT },
        });
        await gate.arrayBuffer();
        if (gate.status !== 200) unexpected.push(`validation: ${gate.status}`);
      } else {
        // With touch_interval 1s most of these write: the idle expiry slides (a renewal) and the answer reports it.
        const res = await new LiveClient(server!).request('GET', '/api/v1/session', { headers: sessionCookie(session.token) });
        if (res.status !== 200) unexpected.push(`session: ${res.status} ${JSON.stringify(res.json)}`);
        else {
          const idleExpiresAt = Date.parse(res.json.idle_expires_at);
          const seen = acked.renewals.get(session.token) ?? [];
          if (idleExpiresAt > (seen.at(-1)?.idleExpiresAt ?? 0)) {
            acked.renewals.set(session.token, [...seen, { at: performance.now(), idleExpiresAt }]);
            counts.renewals++;
          }
        }
      }
      counts.validations++;
    } finally {
      busyTokens.delete(session.token);
    }
    return;
  }
  if (roll < 0.8) {
    const family = pick([...acked.liveFamilies.values()]);
    if (!family) return;
    // Until the answer arrives the old token's state is unknown: the family leaves the ledger meanwhile.
    acked.liveFamilies.delete(family.refreshToken);
    const client = new LiveClient(server!);
    const res = await client.request('POST', '/api/v1/token', {
      body: { grant_type: 'refresh_token', refresh_token: family.refreshToken },
    });
    if (res.status !== 200) {
      unexpected.push(`refresh: ${res.status} ${JSON.stringify(res.json)}`);
      return;
    }
    const next = { ...family, accessToken: res.json.access_token, refreshToken: res.json.refresh_token };
    acked.rotated.push({ spent: family.refreshToken, next });
    acked.liveFamilies.set(next.refreshToken, next);
    counts.refreshes++;
    return;
  }
  // Revocation: logout of a cookie session, or of a token sign-in with its access token.
  const client = new LiveClient(server!);
  if (rng() < 0.7) {
    const session = pick([...acked.liveSessions.values()].filter((s) => !busyTokens.has(s.token) && !witnesses.has(s.token)));
    if (!session) return;
    acked.liveSessions.delete(session.token);
    const res = await client.request('POST', '/api/v1/logout', { headers: sessionCookie(session.token) });
    if (res.status !== 204) unexpected.push(`logout: ${res.status} ${JSON.stringify(res.json)}`);
    else acked.revokedSessions.push(session);
  } else {
    const family = pick([...acked.liveFamilies.values()]);
    if (!family) return;
    acked.liveFamilies.delete(family.refreshToken);
    const res = await client.request('POST', '/api/v1/logout', { bearer: family.accessToken });
    if (res.status !== 204) unexpected.push(`token logout: ${res.status} ${JSON.stringify(res.json)}`);
    else acked.revokedFamilies.push(family);
  }
  counts.revocations++;
}

/**
 * Runs WORKERS concurrent loops of `operate` and kills the server with SIGKILL `killAfterMs` after
 * `ready()` first holds (acknowledged writes of every kind this round), so a slow machine cannot make
 * a round vacuous.
 */
async function loadThenKill(killAfterMs: number, rng: () => number, ready: () => boolean): Promise<void> {
  let killed = false;
  let inFlight = 0;
  const worker = async (seed: number) => {
    const own = prng(seed);
    while (!killed) {
      inFlight++;
      try {
        await operate(own);
      } catch (err) {
        // A request the kill cut off: neither acknowledged nor refused.
        if (!killed) unexpected.push(`request failed before the kill: ${(err as Error).message}`);
      } finally {
        inFlight--;
      }
    }
  };
  const workers = Array.from({ length: WORKERS }, (_, i) => worker(Math.floor(rng() * 2 ** 32) + i));
  for (const deadline = Date.now() + 120_000; !ready() && Date.now() < deadline && unexpected.length === 0;)
    await new Promise((done) => setTimeout(done, 20));
  await new Promise((done) => setTimeout(done, killAfterMs));
  counts.workersMidOperationAtKill += inFlight;
  killed = true;
  killedAt = performance.now();
  await server!.kill9();
  await Promise.all(workers);
}

/**
 * Opens a copy of the files exactly as the kill left them (the restart then recovers the originals
 * itself): PRAGMA integrity_check, and the idle expiry stored for every renewal of a session still
 * in use acknowledged RENEWAL_WRITTEN_WITHIN_MS before the kill (before any new request could extend it again).
 */
function inspectCrashedFiles(): { integrity: string; lostRenewals: string[]; checkedRenewals: number } {
  const sqlitePath = liveConfig(configFile).sqlitePath;
  const copyDir = mkdtempSync(join(tmpdir(), 'twofold-crash-copy-'));
  try {
    const copy = join(copyDir, 'twofold.db');
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(sqlitePath + suffix)) copyFileSync(sqlitePath + suffix, copy + suffix);
    const db = new Database(copy);
    try {
      const integrity = (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((row) => row.integrity_check).join('; ');
      const stored = db.prepare('SELECT idle_expires_at FROM sessions WHERE token_hash = ?').pluck();
      const lostRenewals: string[] = [];
      let checkedRenewals = 0;
      for (const [token, renewals] of acked.renewals) {
        if (!acked.liveSessions.has(token)) continue;
        const settled = renewals.filter((r) => r.at <= killedAt - RENEWAL_WRITTEN_WITHIN_MS).at(-1);
        if (!settled) continue;
        checkedRenewals++;
        const value = stored.get(hashToken(token)) as number | undefined;
        if (value === undefined || value < settled.idleExpiresAt)
          lostRenewals.push(`${acked.liveSessions.get(token)!.username}: stored ${value}, acknowledged ${settled.idleExpiresAt}`);
      }
      return { integrity, lostRenewals, checkedRenewals };
    } finally {
      db.close();
    }
  } finally {
    rmSync(copyDir, { recursive: true, force: true });
  }
}

/** Every acknowledged write, checked against the restarted server. */
async function assertAcknowledgedWritesHeld(): Promise<void> {
  const client = new LiveClient(server!);
  for (const session of acked.liveSessions.values()) {
    const res = await client.request('GET', '/api/v1/session', { headers: sessionCookie(session.token) });
    expect(res.status, `acknowledged sign-in of ${session.username} lost`).toBe(200);
  }
  for (const family of acked.liveFamilies.values()) {
    const res = await client.request('GET', '/api/v1/session', { bearer: family.accessToken });
    expect(res.status, `acknowledged token sign-in of ${family.username} lost`).toBe(200);
  }
  for (const session of acked.revokedSessions) {
    const res = await client.request('GET', '/api/v1/session', { headers: sessionCookie(session.token) });
    expect(res.status, `acknowledged logout of ${session.username} undone`).toBe(401);
    const gate = await fetch(`${server!.baseUrl}/auth/request`, {
      headers: { ...sessionCookie(session.token), 'x-original-url': GATE_URL, 'user-agent': LIVE_USER_AGENT },
    });
    await gate.arrayBuffer();
    expect(gate.status, 'the gate lets a revoked session through').toBe(401);
  }
  for (const family of acked.revokedFamilies) {
    expect((await client.request('GET', '/api/v1/session', { bearer: family.accessToken })).status).toBe(401);
    const refresh = await client.request('POST', '/api/v1/token', {
      body: { grant_type: 'refresh_token', refresh_token: family.refreshToken },
    });
    expect(refresh.status, `refresh token of a logged-out family works: ${JSON.stringify(refresh.json)}`).toBe(400);
    expect(refresh.json.error.code).toBe('invalid_grant');
  }
  for (const { spent, next } of acked.rotated) {
    // docs/tokens.md: a spent token presented again is reuse — invalid_grant, and the family and its session end.
    const reuse = await client.request('POST', '/api/v1/token', { body: { grant_type: 'refresh_token', refresh_token: spent } });
    expect(reuse.status, `a rotated refresh token works again after the crash: ${JSON.stringify(reuse.json)}`).toBe(400);
    expect(reuse.json.error.code).toBe('invalid_grant');
    expect(['reused', 'revoked']).toContain(reuse.json.error.reason);
    // The family's newest token (perhaps rotated further since) and its session are refused now.
    const newest = [...acked.liveFamilies.values()].find((f) => f.id === next.id) ?? next;
    acked.liveFamilies.delete(newest.refreshToken);
    const after = await client.request('POST', '/api/v1/token', {
      body: { grant_type: 'refresh_token', refresh_token: newest.refreshToken },
    });
    expect(after.status, 'reuse did not end the family').toBe(400);
    expect((await client.request('GET', '/api/v1/session', { bearer: newest.accessToken })).status, 'reuse did not end the session').toBe(
      401,
    );
  }
  // Used recovery codes: a fresh sign-in offers each one again and must be refused (4 tries per pending sign-in of 5 allowed).
  const byUser = new Map<string, string[]>();
  for (const { username, code } of acked.usedCodes) byUser.set(username, [...(byUser.get(username) ?? []), code]);
  for (const [username, codes] of byUser) {
    for (let i = 0; i < codes.length; i += 4) {
      const signIn = new LiveClient(server!);
      const login = await signIn.request('POST', '/api/v1/login', { body: { username, password: LIVE_PASSWORD } });
      expect(login.status, JSON.stringify(login.json)).toBe(200);
      for (const code of codes.slice(i, i + 4)) {
        const res = await signIn.request('POST', '/api/v1/login/second-factor', { body: { method: 'recovery_code', code } });
        expect(res.status, `used recovery code of ${username} accepted again after the crash`).toBe(401);
        expect(res.json.error.code).toBe('invalid_code');
      }
    }
  }
}

beforeAll(async () => {
  ensureBuilt();
  dataDir = mkdtempSync(join(tmpdir(), 'twofold-crash-'));
  mkdirSync(dataDir, { recursive: true });
  configFile = writeLiveConfig(dataDir, await livePort(), {
    // What is tested is durability, not the risk engine or the throttles: many quick sign-ins of the
    // same users from one address would otherwise (rightly) be slowed down or stepped up.
    risk: { thresholds: { medium: 100, high: 200, very_high: 300 } },
    rate_limit: { ip_failures_per_hour: 100_000 },
    geoip: { city_db: '' },
    // Every validation a second apart renews (writes) the session's idle expiry: renewals under load.
    session: { touch_interval: '1s' },
  });
  const usernames = Array.from({ length: USERS }, (_, i) => `crash${i}`);
  await seedLiveUsers(configFile, usernames);
  server = await startLiveServer(configFile);
  for (const username of usernames) {
    const client = new LiveClient(server);
    users.push(await enrollLiveUser(client, username));
    acked.liveSessions.set(client.sessionToken!, { username, token: client.sessionToken! });
    if (witnesses.size < WITNESSES) witnesses.add(client.sessionToken!);
  }
}, 180_000);

afterAll(async () => {
  await server?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe(`kill -9 under load (seed ${SEED})`, () => {
  const rng = prng(SEED);
  for (let round = 1; round <= ROUNDS; round++) {
    it(`round ${round}: after the kill the file is intact and every acknowledged write holds`, async () => {
      const before = { ...counts, rotated: acked.rotated.length, revoked: acked.revokedSessions.length + acked.revokedFamilies.length };
      const killAfterMs = Math.floor(rng() * 3000);
      const roundStart = performance.now();
      recoveryBudget = 40;
      // A renewal of this round, of a session still live, acknowledged long enough ago to be checked.
      const settledRenewal = () =>
        [...acked.renewals].some(
          ([token, renewals]) =>
            acked.liveSessions.has(token) &&
            renewals.some((r) => r.at >= roundStart && r.at <= performance.now() - RENEWAL_WRITTEN_WITHIN_MS),
        );
      const ready = () =>
        counts.signIns + counts.tokenSignIns > before.signIns + before.tokenSignIns &&
        acked.revokedSessions.length + acked.revokedFamilies.length > before.revoked &&
        counts.validations > before.validations &&
        counts.renewals > before.renewals &&
        settledRenewal() &&
        acked.rotated.length > before.rotated &&
        counts.recoveryUses > before.recoveryUses;
      await loadThenKill(killAfterMs, rng, ready);
      expect(unexpected, unexpected.slice(0, 5).join('\n')).toEqual([]);

      const crashed = inspectCrashedFiles();
      expect(crashed.integrity).toBe('ok');
      expect(crashed.lostRenewals, 'acknowledged renewals lost').toEqual([]);
      // Not vacuous: the witnesses' renewals of this round were old enough to be checked.
      expect(crashed.checkedRenewals, 'renewals old enough to check').toBeGreaterThan(0);
      server = await startLiveServer(configFile);
      await assertAcknowledgedWritesHeld();

      // Not vacuous: this round had acknowledged writes of each kind that matters.
      const done = { ...counts, rotated: acked.rotated.length, revoked: acked.revokedSessions.length + acked.revokedFamilies.length };
      console.log(
        `round ${round}: killed ${killAfterMs} ms after every kind of write was acknowledged; renewals checked on disk: ${crashed.checkedRenewals}`,
        JSON.stringify(done),
      );
      expect(done.signIns + done.tokenSignIns).toBeGreaterThan(before.signIns + before.tokenSignIns);
      expect(done.revoked).toBeGreaterThan(before.revoked);
      expect(done.validations).toBeGreaterThan(before.validations);
      expect(done.renewals).toBeGreaterThan(before.renewals);
      expect(done.rotated).toBeGreaterThan(before.rotated);
      expect(done.recoveryUses).toBeGreaterThan(before.recoveryUses);
    }, 240_000);
  }

  it('the file is intact after a clean stop too', async () => {
    await server!.stop();
    const db = new Database(liveConfig(configFile).sqlitePath, { readonly: true });
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(String(db.pragma('journal_mode', { simple: true })).toLowerCase()).toBe('wal');
    } finally {
      db.close();
    }
  });
});
