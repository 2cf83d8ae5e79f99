import { afterEach, describe, expect, it } from 'vitest';
import type { TokenHash } from '../../src/core/ids.js';
import { hashToken } from '../../src/core/ids.js';
import type { Session } from '../../src/core/session/session.js';
import { TouchBatch, withBatchedTouches } from '../../src/store/batched-touches.js';
import { postgresTouchBatches } from '../../src/store/postgres/touch-batches.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import type { Store } from '../../src/store/store.js';
import { blockDatabase, createTestDatabase, describeWithServices, unblockDatabase, type TestDatabase } from '../support/postgres.js';
import { liveSession, storedUser } from '../support/records.js';

/**
 * Sliding-expiry writes on PostgreSQL go out as one statement per 100 ms
 * (src/store/batched-touches.ts, postgres/touch-batches.ts): the validation does not wait, the latest times win, a
 * revoked session is never touched, and a failed batch is reported, not thrown.
 */
const NOW = 1_800_000_000_000;
const MINUTE = 60_000;
let database: TestDatabase | undefined;
let raw: Store | undefined;
let batched: Store | undefined;

afterEach(async () => {
  await batched?.close().catch(() => undefined);
  await database?.drop();
  batched = raw = database = undefined;
});

async function open(onError?: (err: Error, dropped: number) => void) {
  database = await createTestDatabase();
  const opened = await openPostgresStore(database.url, { migrate: true });
  raw = opened.store;
  batched = withBatchedTouches(opened.store, postgresTouchBatches(opened.db), { intervalMs: 100, onError });
  await raw.users.create(storedUser('usr_1', NOW, { username: 'ada', displayName: 'Ada' }));
  return { raw, batched };
}

async function addSession(store: Store, n: number): Promise<Session> {
  const session = liveSession(`ses_${n}`, 'usr_1', NOW);
  await store.sessions.create(session, hashToken(`token-${n}`) as TokenHash);
  return session;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeWithServices('batched session touches on PostgreSQL', {}, () => {
  it('answers at once, then writes the latest times of many sessions in one go', async () => {
    const { raw, batched } = await open();
    const sessions = await Promise.all([1, 2, 3].map((n) => addSession(raw, n)));
    for (const [i, session] of sessions.entries()) {
      await batched.sessions.touch(session.id, NOW + MINUTE, NOW + 31 * MINUTE + i);
      await batched.sessions.touch(session.id, NOW + 2 * MINUTE, NOW + 32 * MINUTE + i);
    }
    // Not written yet: the validation did not wait for PostgreSQL.
    expect((await raw.sessions.findById(sessions[0]!.id))!.lastSeenAt).toBe(NOW);
    await sleep(400);
    for (const [i, session] of sessions.entries()) {
      const stored = (await raw.sessions.findById(session.id))!;
      expect(stored.lastSeenAt).toBe(NOW + 2 * MINUTE);
      expect(stored.idleExpiresAt).toBe(NOW + 32 * MINUTE + i);
    }
  });

  it('shows this node its own touches before they are written, and never moves times back', async () => {
    const { raw, batched } = await open();
    const session = await addSession(raw, 1);
    await batched.sessions.touch(session.id, NOW + 2 * MINUTE, NOW + 32 * MINUTE);
    expect((await raw.sessions.findById(session.id))!.idleExpiresAt).toBe(NOW + 30 * MINUTE);
    expect((await batched.sessions.findById(session.id))!.idleExpiresAt).toBe(NOW + 32 * MINUTE);
    expect((await batched.sessions.findByTokenHash(hashToken('token-1') as TokenHash))!.lastSeenAt).toBe(NOW + 2 * MINUTE);
    await sleep(400);
    // Another node's older view arrives later: the stored times stay the newest.
    await raw.sessions.touch(session.id, NOW + 5 * MINUTE, NOW + 35 * MINUTE);
    await batched.sessions.touch(session.id, NOW + 3 * MINUTE, NOW + 33 * MINUTE);
    await sleep(400);
    expect((await raw.sessions.findById(session.id))!.idleExpiresAt).toBe(NOW + 35 * MINUTE);
  });

  it('never touches a session revoked meanwhile', async () => {
    const { raw, batched } = await open();
    const session = await addSession(raw, 1);
    await batched.sessions.touch(session.id, NOW + MINUTE, NOW + 31 * MINUTE);
    expect(await raw.sessions.revoke(session.id, NOW + MINUTE, 'test')).toBe(true);
    await sleep(400);
    const stored = (await raw.sessions.findById(session.id))!;
    expect(stored.revokedAt).toBe(NOW + MINUTE);
    expect(stored.idleExpiresAt).toBe(NOW + 30 * MINUTE);
  });

  it('writes what is pending when the store closes', async () => {
    const opened = await open();
    const session = await addSession(opened.raw, 1);
    await opened.batched.sessions.touch(session.id, NOW + MINUTE, NOW + 31 * MINUTE);
    const reader = await openPostgresStore(database!.url, { migrate: false });
    await opened.batched.close();
    batched = undefined;
    expect((await reader.store.sessions.findById(session.id))!.idleExpiresAt).toBe(NOW + 31 * MINUTE);
    await reader.store.close();
  });

  it('reports a batch PostgreSQL refused, and goes on with the next', async () => {
    const failures: Array<{ message: string; dropped: number }> = [];
    const { raw, batched } = await open((err, dropped) => failures.push({ message: err.message, dropped }));
    const session = await addSession(raw, 1);
    await blockDatabase(database!.name);
    await batched.sessions.touch(session.id, NOW + MINUTE, NOW + 31 * MINUTE);
    await sleep(1500);
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]!.dropped).toBe(1);
    await unblockDatabase(database!.name);
    await batched.sessions.touch(session.id, NOW + 2 * MINUTE, NOW + 32 * MINUTE);
    let stored = 0;
    for (let i = 0; i < 50 && stored !== NOW + 32 * MINUTE; i++) {
      await sleep(100);
      stored = (await raw.sessions.findById(session.id).catch(() => undefined))?.idleExpiresAt ?? 0;
    }
    expect(stored).toBe(NOW + 32 * MINUTE);
  });
});

describe('TouchBatch: the latest times per session, by column', () => {
  it('keeps one entry per session, with the latest times given, in the order first touched', () => {
    const batch = new TouchBatch();
    batch.set('ses_a', 1, 2);
    batch.set('ses_b', 3, 4);
    batch.set('ses_a', 5, 6);
    expect(batch.size).toBe(2);
    expect(batch.ids).toEqual(['ses_a', 'ses_b']);
    expect([...batch.times]).toEqual([5, 6, 3, 4]);
    expect(batch.get('ses_a')).toEqual({ lastSeenAt: 5, idleExpiresAt: 6 });
    expect(batch.get('ses_c')).toBeUndefined();
  });

  it('grows past its first block without losing a time', () => {
    const batch = new TouchBatch();
    for (let i = 0; i < 1000; i++) batch.set(`ses_${i}`, i, 1_700_000_000_000 + i);
    expect(batch.size).toBe(1000);
    expect(batch.get('ses_0')).toEqual({ lastSeenAt: 0, idleExpiresAt: 1_700_000_000_000 });
    expect(batch.get('ses_999')).toEqual({ lastSeenAt: 999, idleExpiresAt: 1_700_000_000_999 });
    expect(batch.times.length).toBe(2000);
  });
});
