import type { Insertable, Kysely, Selectable } from 'kysely';
import type { Database, WebhookAttemptsTable, WebhookDeliveriesTable, WebhookEndpointsTable } from '../schema.js';
import { fromEvent } from './rows.js';
import type {
  DeliveryCounts,
  DeliveryStatus,
  NewWebhookDelivery,
  WebhookAttempt,
  WebhookDelivery,
  WebhookEndpoint,
  WebhookStore,
} from '../webhook-store.js';

const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const changed = (result: { numUpdatedRows?: bigint; numDeletedRows?: bigint }): number =>
  Number(result.numUpdatedRows ?? result.numDeletedRows ?? 0n);

const toEndpoint = (r: Selectable<WebhookEndpointsTable>): WebhookEndpoint => ({
  id: r.id,
  url: r.url,
  description: r.description,
  events: JSON.parse(r.events) as string[],
  secretSealed: r.secret_sealed,
  createdAt: Number(r.created_at),
});

const toDelivery = (r: Selectable<WebhookDeliveriesTable>): WebhookDelivery => ({
  id: r.id,
  endpointId: r.endpoint_id,
  messageId: r.message_id,
  eventId: numOrNull(r.event_id),
  eventType: r.event_type,
  payload: r.payload,
  status: r.status as DeliveryStatus,
  attempts: Number(r.attempts),
  nextAttemptAt: numOrNull(r.next_attempt_at),
  createdAt: Number(r.created_at),
  deliveredAt: numOrNull(r.delivered_at),
  lastStatusCode: numOrNull(r.last_status_code),
  lastError: r.last_error,
});

const toAttempt = (r: Selectable<WebhookAttemptsTable>): WebhookAttempt => ({
  deliveryId: r.delivery_id,
  endpointId: r.endpoint_id,
  attempt: Number(r.attempt),
  at: Number(r.at),
  statusCode: numOrNull(r.status_code),
  error: r.error,
  durationMs: Number(r.duration_ms),
});

const deliveryRow = (d: NewWebhookDelivery): Insertable<WebhookDeliveriesTable> => ({
  id: d.id,
  endpoint_id: d.endpointId,
  message_id: d.messageId,
  event_id: d.eventId,
  event_type: d.eventType,
  payload: d.payload,
  status: 'pending',
  attempts: 0,
  // Due at once: the first attempt follows the event as soon as a worker looks.
  next_attempt_at: d.createdAt,
  lease_token: null,
  created_at: d.createdAt,
  delivered_at: null,
  last_status_code: null,
  last_error: null,
});

/** Webhook endpoints, the outbox and its attempt log (migration 007), on SQLite and PostgreSQL alike. */
export function webhookStore(db: Kysely<Database>): WebhookStore {
  return {
    async addEndpoint(e) {
      await db
        .insertInto('webhook_endpoints')
        .values({
          id: e.id,
          url: e.url,
          description: e.description,
          events: JSON.stringify(e.events),
          secret_sealed: e.secretSealed,
          created_at: e.createdAt,
        })
        .execute();
    },
    async listEndpoints() {
      return (await db.selectFrom('webhook_endpoints').selectAll().orderBy('created_at').orderBy('id').execute()).map(toEndpoint);
    },
    async findEndpoint(id) {
      const row = await db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toEndpoint(row);
    },
    async removeEndpoint(id) {
      return db.transaction().execute(async (tx) => {
        const removed = await tx.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
        await tx.deleteFrom('webhook_attempts').where('endpoint_id', '=', id).execute();
        await tx.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute();
        return changed(removed) === 1;
      });
    },
    async appendEventWithDeliveries(event, deliveries) {
      await db.transaction().execute(async (tx) => {
        const { id } = await tx.insertInto('events').values(fromEvent(event)).returning('id').executeTakeFirstOrThrow();
        const rows = deliveries(Number(id));
        if (rows.length) await tx.insertInto('webhook_deliveries').values(rows.map(deliveryRow)).execute();
      });
    },
    async enqueueClaimed(delivery, leaseUntil, leaseToken) {
      const row = await db
        .insertInto('webhook_deliveries')
        .values({ ...deliveryRow(delivery), attempts: 1, next_attempt_at: leaseUntil, lease_token: leaseToken })
        .returningAll()
        .executeTakeFirstOrThrow();
      return toDelivery(row);
    },
    async listDue(now, limit) {
      const rows = await db
        .selectFrom('webhook_deliveries')
        .select(['id', 'next_attempt_at'])
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .orderBy('next_attempt_at')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ id: r.id, nextAttemptAt: Number(r.next_attempt_at) }));
    },
    async claim(id, dueAt, leaseUntil, leaseToken) {
      // Conditional on the due time read: a second worker that read the same row finds it moved
      // (PostgreSQL re-checks the WHERE after the row lock; SQLite serialises writers).
      const row = await db
        .updateTable('webhook_deliveries')
        .set((eb) => ({ next_attempt_at: leaseUntil, lease_token: leaseToken, attempts: eb('attempts', '+', 1) }))
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .where('next_attempt_at', '=', dueAt)
        .returningAll()
        .executeTakeFirst();
      return row && toDelivery(row);
    },
    async finish(id, leaseToken, attempt, outcome) {
      return db.transaction().execute(async (tx) => {
        await tx
          .insertInto('webhook_attempts')
          .values({
            delivery_id: attempt.deliveryId,
            endpoint_id: attempt.endpointId,
            attempt: attempt.attempt,
            at: attempt.at,
            status_code: attempt.statusCode,
            error: attempt.error,
            duration_ms: Math.round(attempt.durationMs),
          })
          .execute();
        const result = await tx
          .updateTable('webhook_deliveries')
          .set({
            status: outcome.status,
            next_attempt_at: outcome.status === 'pending' ? outcome.nextAttemptAt : null,
            delivered_at: outcome.status === 'delivered' ? attempt.at : null,
            lease_token: null,
            last_status_code: attempt.statusCode,
            last_error: attempt.error,
          })
          .where('id', '=', id)
          .where('lease_token', '=', leaseToken)
          .executeTakeFirst();
        return changed(result) === 1;
      });
    },
    async listDeliveries(endpointId, limit) {
      const rows = await db
        .selectFrom('webhook_deliveries')
        .selectAll()
        .where('endpoint_id', '=', endpointId)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return rows.map(toDelivery);
    },
    async findDelivery(id) {
      const row = await db.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toDelivery(row);
    },
    async listAttempts(deliveryIds) {
      if (deliveryIds.length === 0) return [];
      const rows = await db
        .selectFrom('webhook_attempts')
        .selectAll()
        .where('delivery_id', 'in', deliveryIds)
        .orderBy('delivery_id')
        .orderBy('attempt')
        .orderBy('id')
        .execute();
      return rows.map(toAttempt);
    },
    async countDeliveries() {
      const statuses = await db
        .selectFrom('webhook_deliveries')
        .select((eb) => ['endpoint_id', 'status', eb.fn.countAll<number>().as('n')])
        .groupBy(['endpoint_id', 'status'])
        .execute();
      const lastAttempts = await db
        .selectFrom('webhook_attempts')
        .select((eb) => ['endpoint_id', eb.fn.max('at').as('last')])
        .groupBy('endpoint_id')
        .execute();
      const counts = new Map<string, DeliveryCounts>();
      const of = (endpointId: string) => {
        let entry = counts.get(endpointId);
        if (!entry) counts.set(endpointId, (entry = { pending: 0, delivered: 0, failed: 0, lastAttemptAt: null }));
        return entry;
      };
      for (const row of statuses) {
        const status = row.status as DeliveryStatus;
        if (status === 'pending' || status === 'delivered' || status === 'failed') of(row.endpoint_id)[status] = Number(row.n);
      }
      for (const row of lastAttempts) of(row.endpoint_id).lastAttemptAt = numOrNull(row.last);
      return counts;
    },
  };
}
