import type { Kysely } from 'kysely';
import { autoIncrementId, type MigrationDialect } from './portable.js';

/**
 * Webhooks for security events (docs/webhooks.md): the endpoints administrators register, the
 * outbox of deliveries (written in the same transaction as the audit event they carry, so nothing
 * recorded is lost to a crash), and the log of every attempt.
 */
export async function up(db: Kysely<any>, dialect: MigrationDialect): Promise<void> {
  await db.schema
    .createTable('webhook_endpoints')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    // JSON array of subscribed types and prefixes ("session.revoked", "login.*", "*").
    .addColumn('events', 'text', (c) => c.notNull())
    // The signing secret sealed with the master key (SecretBox), the endpoint id as associated data.
    .addColumn('secret_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  // No foreign key to the endpoint: an event recorded while its endpoint is being removed must
  // still commit; the worker drops deliveries whose endpoint is gone.
  await db.schema
    .createTable('webhook_deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('endpoint_id', 'text', (c) => c.notNull())
    // The webhook-id header: the same on every retry, so receivers can drop duplicates.
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('event_id', 'bigint')
    .addColumn('event_type', 'text', (c) => c.notNull())
    // The exact body sent (and signed) on every attempt.
    .addColumn('payload', 'text', (c) => c.notNull())
    // 'pending', 'delivered' or 'failed' (gave up after the last attempt).
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    // When a worker may next take it; a worker's claim moves it past the attempt (the lease).
    .addColumn('next_attempt_at', 'bigint')
    // Random per claim: only the worker holding the lease may record the outcome.
    .addColumn('lease_token', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .addColumn('last_status_code', 'integer')
    .addColumn('last_error', 'text')
    .execute();
  await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('webhook_deliveries_endpoint').on('webhook_deliveries').columns(['endpoint_id', 'created_at']).execute();

  const id = autoIncrementId(dialect);
  await db.schema
    .createTable('webhook_attempts')
    .addColumn('id', id.type, id.build)
    .addColumn('delivery_id', 'text', (c) => c.notNull())
    .addColumn('endpoint_id', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    // Null when no HTTP answer came (refused, timed out).
    .addColumn('status_code', 'integer')
    .addColumn('error', 'text')
    .addColumn('duration_ms', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('webhook_attempts_delivery').on('webhook_attempts').columns(['delivery_id', 'attempt']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('webhook_attempts').execute();
  await db.schema.dropTable('webhook_deliveries').execute();
  await db.schema.dropTable('webhook_endpoints').execute();
}
