import { expect, it } from 'vitest';
import { createDeps } from '../../src/app.js';
import { recordEvent } from '../../src/auth/audit.js';
import type { AuthDeps } from '../../src/auth/deps.js';
import type { UserId } from '../../src/core/ids.js';
import { DeliveryWorker } from '../../src/webhooks/delivery-worker.js';
import { addEndpoint } from '../../src/webhooks/endpoints.js';
import { freePort, startHarness } from '../support/harness.js';
import { describeWithServices } from '../support/postgres.js';
import { Receiver, verifyStandardWebhook, waitFor } from './receiver.js';

const quiet = { warn: () => undefined };

/**
 * The same outbox on PostgreSQL, with two nodes: two twofold instances (two connection pools) on
 * one database, both running delivery rounds at once. Every message arrives exactly once here
 * (claims never overlap), signed, and each attempt is logged once.
 */
describeWithServices('webhooks on PostgreSQL, two nodes', {}, () => {
  it('delivers every queued event once, whichever node claims it', async () => {
    const receiver = new Receiver(await freePort());
    await receiver.start();
    // Node A runs no worker of its own: the rounds below are driven by hand on both nodes.
    const h = await startHarness({ postgres: true, overrides: { 'webhooks.deliver': false } });
    let nodeB: AuthDeps | undefined;
    try {
      nodeB = await createDeps(h.deps.config, { clock: h.clock });
      const { endpoint, secret } = await addEndpoint(h.deps, { url: receiver.url, events: ['session.*', 'token.theft_detected'] }, null);
      const userId = 'usr_pg' as UserId;
      for (let i = 0; i < 12; i++) {
        // Recorded on both nodes, as sign-ins and revocations would be.
        const node = i % 2 === 0 ? h.deps : nodeB;
        await recordEvent(node, { type: 'session.revoked', outcome: 'success', userId, reason: `case_${i}` }, null);
      }
      await recordEvent(nodeB, { type: 'token.theft_detected', outcome: 'failure', userId, reason: 'refresh_token_reused' }, null);
      await recordEvent(nodeB, { type: 'risk.decision', outcome: 'success', userId }, null); // not subscribed

      // A claim race on one row: exactly one of two concurrent claims wins.
      const [due] = await h.deps.store.webhooks.listDue(h.clock.now(), 1);
      const lease = h.clock.now() + 60_000;
      const claims = await Promise.all([
        h.deps.store.webhooks.claim(due!.id, due!.nextAttemptAt, lease, 'node-a'),
        nodeB.store.webhooks.claim(due!.id, due!.nextAttemptAt, lease, 'node-b'),
      ]);
      expect(claims.filter(Boolean)).toHaveLength(1);
      h.clock.set(lease); // that lease runs out, as if its holder had stopped

      const workers = [new DeliveryWorker(h.deps, quiet), new DeliveryWorker(nodeB, quiet)];
      await waitFor('every delivery', async () => {
        await Promise.all(workers.map((w) => w.runOnce()));
        return receiver.received.length >= 13;
      });
      await Promise.all(workers.map((w) => w.runOnce()));

      const ids = receiver.received.map((m) => m.headers['webhook-id']);
      expect(ids).toHaveLength(13);
      expect(new Set(ids).size).toBe(13);
      for (const message of receiver.received) {
        expect(verifyStandardWebhook(secret, message.headers, message.body, Math.floor(h.clock.now() / 1000))).toBe(true);
      }
      expect(receiver.ofType('token.theft_detected')[0]!.json.data).toMatchObject({ outcome: 'failure', reason: 'refresh_token_reused' });
      const deliveries = await h.deps.store.webhooks.listDeliveries(endpoint.id, 100);
      expect(deliveries).toHaveLength(13);
      expect(deliveries.every((d) => d.status === 'delivered')).toBe(true);
      const attempts = await nodeB.store.webhooks.listAttempts(deliveries.map((d) => d.id));
      expect(attempts).toHaveLength(13);
    } finally {
      await nodeB?.store.close();
      await h.close();
      await receiver.stop();
    }
  });
});
