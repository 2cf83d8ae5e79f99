import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recordEvent } from '../../src/auth/audit.js';
import type { UserId } from '../../src/core/ids.js';
import { addEndpoint } from '../../src/webhooks/endpoints.js';
import { freePort, startHarness, type Harness } from '../support/harness.js';
import { Receiver, verifyStandardWebhook, waitFor } from './receiver.js';

/**
 * The outbox survives the process: twofold records events while the receiver is down and stops
 * with the deliveries pending (one of them claimed by a worker that "crashed" mid-attempt); a new
 * twofold on the same data directory (same SQLite file, same key file) delivers every one of them.
 */
describe('webhooks across a restart (SQLite)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'twofold-webhooks-restart-'));
  const harnesses: Harness[] = [];
  let receiver: Receiver | undefined;
  const overrides = { 'webhooks.poll_interval': '20ms' };

  afterAll(async () => {
    for (const h of harnesses) await h.close().catch(() => undefined);
    await receiver?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('loses nothing: pending and half-sent deliveries arrive after the restart', async () => {
    receiver = new Receiver(await freePort());
    // First life: the receiver is down from the start.
    const first = await startHarness({ dataDir, overrides });
    harnesses.push(first);
    const { endpoint, secret } = await addEndpoint(first.deps, { url: receiver.url, events: ['*'] }, null);
    const userId = 'usr_restart' as UserId;
    await recordEvent(
      first.deps,
      { type: 'session.revoked', outcome: 'success', userId, sessionId: null, reason: 'revoked_by_admin' },
      null,
    );
    await recordEvent(first.deps, { type: 'token.theft_detected', outcome: 'failure', userId, reason: 'refresh_token_reused' }, null);
    await recordEvent(first.deps, { type: 'risk.decision', outcome: 'success', userId, detail: { band: 'low', score: 0.1 } }, null);
    // Not subscribable: never queued.
    await recordEvent(first.deps, { type: 'factor.totp.enrollment_started', outcome: 'success', userId }, null);

    const store = first.deps.store.webhooks;
    const queued = await waitFor('three failed first attempts', async () => {
      const all = await store.listDeliveries(endpoint.id, 10);
      return all.length === 3 && all.every((d) => d.attempts === 1 && d.status === 'pending' && d.lastError === 'ECONNREFUSED') && all;
    });
    // A worker takes one of them and dies before recording anything (its lease is left to run out).
    await first.app.close(); // the worker stops with the server
    first.clock.advance(6 * 60_000);
    const [orphan] = queued;
    const due = (await store.listDue(first.clock.now(), 10)).find((d) => d.id === orphan!.id)!;
    const leaseEnd = first.clock.now() + 70_000;
    expect(await store.claim(orphan!.id, due.nextAttemptAt, leaseEnd, 'lease-of-a-crashed-worker')).toBeDefined();
    await first.close();

    // Second life: same directory, receiver back.
    await receiver.start();
    const second = await startHarness({ dataDir, overrides });
    harnesses.push(second);
    second.clock.set(first.clock.now() + 1000);
    const received = () => receiver!.received.map((m) => ({ ...m, json: JSON.parse(m.body) }));
    await waitFor('the two pending deliveries', () => received().length === 2);
    // The half-sent one waits for its lease to end, then goes too (at-least-once).
    expect(received().map((m) => m.json.data.event_id)).not.toContain(orphan!.eventId);
    second.clock.set(leaseEnd);
    await waitFor('the delivery a crashed worker held', () => received().length === 3);

    const types = received()
      .map((m) => m.json.type)
      .sort();
    expect(types).toEqual(['risk.decision', 'session.revoked', 'token.theft_detected']);
    for (const message of received()) {
      expect(verifyStandardWebhook(secret, message.headers, message.body, Math.floor(second.clock.now() / 1000))).toBe(true);
      expect(message.json.data.user_id).toBe(userId);
    }
    // Each message keeps its webhook-id from the first life.
    expect(new Set(received().map((m) => m.headers['webhook-id']))).toEqual(new Set(queued.map((d) => d.messageId)));
    // The receiver has the message before twofold has its answer and records the delivery.
    const after = await waitFor('every delivery recorded as delivered', async () => {
      const rows = await second.deps.store.webhooks.listDeliveries(endpoint.id, 10);
      return rows.every((d) => d.status === 'delivered') && rows;
    });
    expect(after.map((d) => d.status)).toEqual(['delivered', 'delivered', 'delivered']);
    expect(after.find((d) => d.id === orphan!.id)!.attempts).toBe(3);
  });
});
