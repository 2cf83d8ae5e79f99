import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken, type SessionId, type TokenHash, type UserId } from '../../src/core/ids.js';
import type { Session } from '../../src/core/session/session.js';
import { BOOKKEEPING_TABLES } from '../../src/store/migrations/index.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import { UsernameTakenError, type Store, type User } from '../../src/store/store.js';
import { createTestDatabase, POSTGRES_READY, type TestDatabase } from '../support/postgres.js';
import { storedUser } from '../support/records.js';

/**
 * One set of store tests, run unchanged against every implementation: the SQLite file and
 * PostgreSQL (a fresh database per run). What passes here may be relied on by the use cases
 * whatever the deployment.
 */

interface Backend {
  name: string;
  open(): Promise<{
    store: Store;
    close(): Promise<void>;
    /** Application tables and their column names. */
    columns(): Promise<Map<string, string[]>>;
    /** Columns named *_at that could not hold epoch milliseconds (narrower than 64 bits). */
    narrowTimeColumns(): Promise<string[]>;
  }>;
}

const sqliteBackend: Backend = {
  name: 'SQLite',
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'twofold-contract-'));
    const path = join(dir, 'twofold.db');
    const { store } = await openSqliteStore(path);
    return {
      store,
      async close() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
      async columns() {
        const db = new BetterSqlite3(path, { readonly: true });
        const tables = db
          .prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")
          .pluck()
          .all() as string[];
        const result = new Map(
          tables.map((t) => [t, (db.prepare(`select name from pragma_table_info(?)`).pluck().all(t) as string[]).sort()]),
        );
        db.close();
        return result;
      },
      // SQLite integers are 64-bit whatever the declared type.
      narrowTimeColumns: async () => [],
    };
  },
};

const postgresBackend: Backend = {
  name: 'PostgreSQL',
  async open() {
    const database: TestDatabase = await createTestDatabase();
    const { store } = await openPostgresStore(database.url, { migrate: true });
    return {
      store,
      async close() {
        await store.close();
        await database.drop();
      },
      async columns() {
        return postgresColumns(database.url);
      },
      async narrowTimeColumns() {
        const rows = await queryOn<{ col: string }>(
          database.url,
          "select table_name || '.' || column_name as col from information_schema.columns where table_schema = 'public' and column_name like '%\\_at' and data_type <> 'bigint'",
        );
        return rows.map((r) => r.col);
      },
    };
  },
};

async function queryOn<R extends pg.QueryResultRow>(url: string, text: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text)).rows;
  } finally {
    await client.end();
  }
}

async function postgresColumns(url: string): Promise<Map<string, string[]>> {
  const rows = await queryOn<{ table_name: string; column_name: string }>(
    url,
    "select table_name, column_name from information_schema.columns where table_schema = 'public' order by column_name",
  );
  const result = new Map<string, string[]>();
  for (const r of rows) result.set(r.table_name, [...(result.get(r.table_name) ?? []), r.column_name]);
  return result;
}

const backends = [sqliteBackend, ...(POSTGRES_READY || process.env.CI ? [postgresBackend] : [])];
if (!POSTGRES_READY && !process.env.CI) {
  console.warn('test/store/contract.test.ts: PostgreSQL not reachable, its half is skipped (start it, or see test/support/postgres.ts)');
}

const NOW = 1_795_000_000_000; // an epoch-ms instant past 2^31 seconds' worth of ms: bigint territory
const MINUTE = 60_000;
let seq = 0;
const id = (prefix: string) => `${prefix}_${(++seq).toString().padStart(6, '0')}`;

function user(overrides: Partial<User> = {}): User {
  const n = ++seq;
  return storedUser(`usr_${n}`, NOW, { username: `user${n}`, displayName: `User ${n}`, ...overrides });
}

function session(userId: UserId, overrides: Partial<Session> = {}): Session {
  return {
    id: id('ses') as SessionId,
    userId,
    kind: 'full',
    aal: 2,
    amr: [
      { method: 'pwd', at: NOW },
      { method: 'otp', at: NOW },
    ],
    authTime: NOW,
    createdAt: NOW,
    lastSeenAt: NOW,
    idleExpiresAt: NOW + 30 * MINUTE,
    expiresAt: NOW + 720 * MINUTE,
    ip: '192.0.2.1',
    userAgent: 'contract test',
    revokedAt: null,
    revokedReason: null,
    ...overrides,
  };
}

const token = () => hashToken(`token-${++seq}`) as TokenHash;

describe.each(backends)('store contract on $name', (backend) => {
  let store: Store;
  let opened: Awaited<ReturnType<Backend['open']>>;

  beforeAll(async () => {
    if (backend === postgresBackend && !POSTGRES_READY) throw new Error('PostgreSQL is required in CI (127.0.0.1:5432)');
    opened = await backend.open();
    store = opened.store;
  });
  afterAll(async () => {
    await opened?.close();
  });

  describe('users', () => {
    it('stores and reads back a user, numbers as numbers and flags as booleans', async () => {
      const u = user({ email: 'a@example.com', isAdmin: true, factorFailures: 3, createdAt: NOW + 1 });
      await store.users.create(u);
      const found = await store.users.findById(u.id);
      expect(found).toEqual(u);
      expect(typeof found!.createdAt).toBe('number');
      expect(await store.users.findByUsername(u.username)).toEqual(u);
      expect(await store.users.findById('usr_missing' as UserId)).toBeUndefined();
    });

    it('refuses a taken username with UsernameTakenError', async () => {
      const u = user();
      await store.users.create(u);
      await expect(store.users.create(user({ username: u.username }))).rejects.toBeInstanceOf(UsernameTakenError);
    });

    it('counts and lists users by name', async () => {
      const before = await store.users.count();
      await store.users.create(user({ username: 'zz-last' }));
      expect(await store.users.count()).toBe(before + 1);
      const names = (await store.users.list()).map((u) => u.username);
      expect(names).toEqual([...names].sort());
    });

    it('changes password hash and disabled flag', async () => {
      const u = user();
      await store.users.create(u);
      await store.users.setPasswordHash(u.id, '$argon2id$new', NOW + 5);
      await store.users.setDisabled(u.id, true, NOW + 6);
      expect(await store.users.findById(u.id)).toMatchObject({ passwordHash: '$argon2id$new', disabled: true, updatedAt: NOW + 6 });
    });

    it('counts factor failures atomically, even when requests race', async () => {
      const u = user();
      await store.users.create(u);
      const counts = await Promise.all(Array.from({ length: 20 }, () => store.users.addFactorFailure(u.id)));
      expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      await store.users.resetFactorFailures(u.id);
      expect((await store.users.findById(u.id))!.factorFailures).toBe(0);
    });
  });

  describe('factors', () => {
    async function enrolled(): Promise<{ u: User; factorId: string }> {
      const u = user();
      await store.users.create(u);
      const factorId = id('tot');
      await store.factors.savePendingTotp({
        id: factorId,
        userId: u.id,
        secretSealed: 'sealed',
        algorithm: 'SHA1',
        digits: 6,
        period: 30,
        confirmedAt: null,
        lastUsedStep: null,
        createdAt: NOW,
      });
      expect(await store.factors.confirmTotp(factorId, u.id, 59_833_333, ['h1', 'h2', 'h3'], NOW)).toBe(true);
      return { u, factorId };
    }

    it('confirms a pending TOTP factor once, with its recovery codes', async () => {
      const { u, factorId } = await enrolled();
      expect(await store.factors.findPendingTotp(u.id)).toBeUndefined();
      expect(await store.factors.findConfirmedTotp(u.id)).toMatchObject({
        id: factorId,
        lastUsedStep: 59_833_333,
        confirmedAt: NOW,
        digits: 6,
      });
      expect(await store.factors.confirmTotp(factorId, u.id, 59_833_334, [], NOW)).toBe(false);
      expect(await store.factors.countRecoveryCodesLeft(u.id)).toBe(3);
    });

    it('accepts a TOTP step once: a replay fails, and of racing claims exactly one wins', async () => {
      const { factorId } = await enrolled();
      expect(await store.factors.claimTotpStep(factorId, 59_833_334)).toBe(true);
      expect(await store.factors.claimTotpStep(factorId, 59_833_334)).toBe(false);
      expect(await store.factors.claimTotpStep(factorId, 59_833_333)).toBe(false);
      const race = await Promise.all(Array.from({ length: 10 }, () => store.factors.claimTotpStep(factorId, 59_833_335)));
      expect(race.filter(Boolean)).toHaveLength(1);
    });

    it('uses a recovery code once, also under a race, and replaces the set', async () => {
      const { u } = await enrolled();
      const race = await Promise.all(Array.from({ length: 8 }, () => store.factors.useRecoveryCode(u.id, 'h2', NOW)));
      expect(race.filter(Boolean)).toHaveLength(1);
      expect(await store.factors.useRecoveryCode(u.id, 'nope', NOW)).toBe(false);
      expect(await store.factors.countRecoveryCodesLeft(u.id)).toBe(2);
      await store.factors.replaceRecoveryCodes(u.id, ['n1', 'n2', 'n3', 'n4'], NOW);
      expect(await store.factors.countRecoveryCodesLeft(u.id)).toBe(4);
      expect(await store.factors.useRecoveryCode(u.id, 'h1', NOW)).toBe(false);
    });

    it('removes every factor of a user', async () => {
      const { u } = await enrolled();
      await store.factors.removeAll(u.id);
      expect(await store.factors.findConfirmedTotp(u.id)).toBeUndefined();
      expect(await store.factors.countRecoveryCodesLeft(u.id)).toBe(0);
    });
  });

  describe('sessions', () => {
    it('finds a session by token hash and by id, exactly as created', async () => {
      const u = user();
      await store.users.create(u);
      const s = session(u.id);
      const hash = token();
      await store.sessions.create(s, hash);
      expect(await store.sessions.findByTokenHash(hash)).toEqual(s);
      expect(await store.sessions.findById(s.id)).toEqual(s);
      expect(await store.sessions.findByTokenHash(token())).toBeUndefined();
    });

    it('touches, lists live sessions newest first, and revokes once', async () => {
      const u = user();
      await store.users.create(u);
      const older = session(u.id, { createdAt: NOW - 10 });
      const newer = session(u.id, { createdAt: NOW });
      const expired = session(u.id, { createdAt: NOW - 20, expiresAt: NOW - 1 });
      for (const s of [older, newer, expired]) await store.sessions.create(s, token());
      await store.sessions.touch(older.id, NOW + MINUTE, NOW + 31 * MINUTE);
      expect(await store.sessions.findById(older.id)).toMatchObject({ lastSeenAt: NOW + MINUTE, idleExpiresAt: NOW + 31 * MINUTE });
      expect((await store.sessions.listActive(NOW, { userId: u.id })).map((s) => s.id)).toEqual([newer.id, older.id]);
      expect(await store.sessions.revoke(newer.id, NOW + 1, 'logout')).toBe(true);
      expect(await store.sessions.revoke(newer.id, NOW + 2, 'logout')).toBe(false);
      expect(await store.sessions.findById(newer.id)).toMatchObject({ revokedAt: NOW + 1, revokedReason: 'logout' });
    });

    it("revokes all of a user's live sessions but one, and says how many", async () => {
      const u = user();
      await store.users.create(u);
      const keep = session(u.id);
      const others = [session(u.id), session(u.id), session(u.id)];
      for (const s of [keep, ...others]) await store.sessions.create(s, token());
      expect(await store.sessions.revokeAllForUser(u.id, NOW + 1, 'password_changed', keep.id)).toBe(3);
      expect(await store.sessions.revokeAllForUser(u.id, NOW + 2, 'password_changed', keep.id)).toBe(0);
      expect((await store.sessions.listActive(NOW + 3, { userId: u.id })).map((s) => s.id)).toEqual([keep.id]);
    });
  });

  describe('pending sign-ins and setup tokens', () => {
    it('counts code attempts atomically and is consumed once', async () => {
      const u = user();
      await store.users.create(u);
      const hash = token();
      const pending = {
        id: id('pnd'),
        userId: u.id,
        createdAt: NOW,
        expiresAt: NOW + 5 * MINUTE,
        attempts: 0,
        consumedAt: null,
        ip: '::1',
        userAgent: 'ua',
      };
      await store.pendingLogins.create(pending, hash);
      expect(await store.pendingLogins.findByTokenHash(hash)).toMatchObject(pending);
      const attempts = await Promise.all(Array.from({ length: 5 }, () => store.pendingLogins.addAttempt(pending.id)));
      expect([...attempts].sort()).toEqual([1, 2, 3, 4, 5]);
      const consumed = await Promise.all([store.pendingLogins.consume(pending.id, NOW), store.pendingLogins.consume(pending.id, NOW)]);
      expect(consumed.filter(Boolean)).toHaveLength(1);
    });

    it('keeps one valid setup token, single use and expiring', async () => {
      const first = token();
      const second = token();
      await store.setupTokens.replace(first, NOW, NOW + MINUTE);
      await store.setupTokens.replace(second, NOW, NOW + MINUTE);
      expect(await store.setupTokens.isValid(first, NOW)).toBe(false);
      expect(await store.setupTokens.isValid(second, NOW + MINUTE)).toBe(false);
      expect(await store.setupTokens.consume(second, NOW)).toBe(true);
      expect(await store.setupTokens.consume(second, NOW)).toBe(false);
    });
  });

  describe('events', () => {
    it('appends and pages newest first, with JSON detail intact', async () => {
      const u = user();
      await store.users.create(u);
      for (let i = 0; i < 5; i++) {
        await store.events.append({
          at: NOW + i,
          type: 'test.event',
          outcome: 'info',
          userId: u.id,
          sessionId: null,
          ip: '198.51.100.7',
          userAgent: null,
          reason: null,
          detail: { i, nested: { ok: true } },
        });
      }
      const page = await store.events.list({ userId: u.id, limit: 3 });
      expect(page.map((e) => e.detail)).toEqual([2, 3, 4].reverse().map((i) => ({ i: i, nested: { ok: true } })));
      expect(typeof page[0]!.id).toBe('number');
      const rest = await store.events.list({ userId: u.id, limit: 10, beforeId: page[2]!.id });
      expect(rest.map((e) => e.at)).toEqual([NOW + 1, NOW]);
    });
  });

  describe('housekeeping', () => {
    const DAY = 24 * 60 * MINUTE;
    const cutoff = NOW - 30 * DAY;

    it('deletes sessions whose absolute expiry is past the cut-off, in batches, with their refresh tokens', async () => {
      const u = user();
      await store.users.create(u);
      const old = [
        session(u.id, { expiresAt: NOW - 40 * DAY }),
        session(u.id, { expiresAt: NOW - 35 * DAY, revokedAt: NOW - 36 * DAY, revokedReason: 'logout' }),
        session(u.id, { expiresAt: cutoff - 1 }),
      ];
      const kept = [session(u.id, { expiresAt: cutoff }), session(u.id)];
      for (const s of [...old, ...kept]) await store.sessions.create(s, token());
      const family = (s: Session) => ({
        id: id('fam'),
        sessionId: s.id,
        userId: u.id,
        createdAt: s.createdAt,
        expiresAt: s.expiresAt,
        idleExpiresAt: s.expiresAt,
        revokedAt: null,
        revokedReason: null,
      });
      const [oldToken, keptToken] = [token(), token()];
      await store.refreshTokens.createFamily(family(old[0]!), oldToken);
      await store.refreshTokens.createFamily(family(kept[1]!), keptToken);

      expect(await store.housekeeping.deleteSessionsExpiredBefore(cutoff, 2)).toBe(2);
      expect(await store.housekeeping.deleteSessionsExpiredBefore(cutoff, 2)).toBe(1);
      expect(await store.housekeeping.deleteSessionsExpiredBefore(cutoff, 2)).toBe(0);
      for (const s of old) expect(await store.sessions.findById(s.id)).toBeUndefined();
      for (const s of kept) expect(await store.sessions.findById(s.id)).toBeDefined();
      expect(await store.refreshTokens.find(oldToken)).toBeUndefined();
      expect(await store.refreshTokens.find(keptToken)).toBeDefined();
    });

    it('deletes expired pending sign-ins and passkey challenges, not live ones', async () => {
      const u = user();
      await store.users.create(u);
      const pending = (expiresAt: number) => ({
        id: id('pnd'),
        userId: u.id,
        createdAt: expiresAt - 5 * MINUTE,
        expiresAt,
        attempts: 0,
        consumedAt: null,
        ip: '::1',
        userAgent: 'ua',
      });
      const [expired, live] = [token(), token()];
      await store.pendingLogins.create(pending(NOW - 2 * MINUTE), expired);
      await store.pendingLogins.create(pending(NOW + 2 * MINUTE), live);
      expect(await store.housekeeping.deletePendingLoginsExpiredBefore(NOW, 10)).toBe(1);
      expect(await store.pendingLogins.findByTokenHash(expired)).toBeUndefined();
      expect(await store.pendingLogins.findByTokenHash(live)).toBeDefined();

      // Saving a challenge already clears that user's expired ones: what is left behind is a user's who never came back.
      const other = user();
      await store.users.create(other);
      const challenge = (expiresAt: number, userId: UserId) => ({
        challengeHash: id('chl'),
        purpose: 'step_up' as const,
        userId,
        boundTo: id('ses'),
        createdAt: expiresAt - MINUTE,
        expiresAt,
        usedAt: null,
      });
      await store.webauthn.saveChallenge(challenge(NOW - 1, u.id));
      await store.webauthn.saveChallenge(challenge(NOW + MINUTE, other.id));
      expect(await store.housekeeping.deleteWebAuthnChallengesExpiredBefore(NOW, 10)).toBe(1);
      expect(await store.housekeeping.deleteWebAuthnChallengesExpiredBefore(NOW, 10)).toBe(0);
    });

    it('deletes finished webhook deliveries past the cut-off with their attempts, never pending ones', async () => {
      const endpoint = {
        id: id('whe'),
        url: 'https://hooks.example.com/x',
        description: '',
        events: ['*'],
        secretSealed: 'sealed',
        createdAt: NOW - 60 * DAY,
      };
      await store.webhooks.addEndpoint(endpoint);
      const delivery = (createdAt: number) => ({
        id: id('dlv'),
        endpointId: endpoint.id,
        messageId: id('msg'),
        eventId: null,
        eventType: 'session.created',
        payload: '{}',
        createdAt,
      });
      const finish = async (d: ReturnType<typeof delivery>, outcome: { status: 'delivered' } | { status: 'failed' }) => {
        const lease = id('lease');
        await store.webhooks.enqueueClaimed(d, d.createdAt + MINUTE, lease);
        const attempt = {
          deliveryId: d.id,
          endpointId: endpoint.id,
          attempt: 1,
          at: d.createdAt,
          statusCode: 200,
          error: null,
          durationMs: 5,
        };
        expect(await store.webhooks.finish(d.id, lease, attempt, outcome)).toBe(true);
      };
      const [delivered, failed, recent, pending] = [delivery(cutoff - 2), delivery(cutoff - 1), delivery(NOW - DAY), delivery(cutoff - 5)];
      await finish(delivered, { status: 'delivered' });
      await finish(failed, { status: 'failed' });
      await finish(recent, { status: 'delivered' });
      await store.webhooks.enqueueClaimed(pending, cutoff, id('lease'));

      expect(await store.housekeeping.deleteFinishedWebhookDeliveriesBefore(cutoff, 1)).toBe(1);
      expect(await store.housekeeping.deleteFinishedWebhookDeliveriesBefore(cutoff, 10)).toBe(1);
      expect(await store.housekeeping.deleteFinishedWebhookDeliveriesBefore(cutoff, 10)).toBe(0);
      expect(await store.webhooks.findDelivery(delivered.id)).toBeUndefined();
      expect(await store.webhooks.findDelivery(failed.id)).toBeUndefined();
      expect(await store.webhooks.findDelivery(recent.id)).toBeDefined();
      expect(await store.webhooks.findDelivery(pending.id)).toBeDefined();
      expect(await store.webhooks.listAttempts([delivered.id, failed.id])).toEqual([]);
      expect(await store.webhooks.listAttempts([recent.id])).toHaveLength(1);
    });
  });

  it('answers ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('has the same tables and columns as the SQLite schema, and times in 64-bit columns', async () => {
    const mine = await opened.columns();
    const reference = await (async () => {
      const other = await sqliteBackend.open();
      try {
        return await other.columns();
      } finally {
        await other.close();
      }
    })();
    const app = (m: Map<string, string[]>) => new Map([...m].filter(([t]) => !BOOKKEEPING_TABLES.includes(t)));
    expect(Object.fromEntries(app(mine))).toEqual(Object.fromEntries(app(reference)));
    // Epoch milliseconds overflow a 32-bit integer: every *_at column must be 64-bit.
    expect(await opened.narrowTimeColumns()).toEqual([]);
  });
});
