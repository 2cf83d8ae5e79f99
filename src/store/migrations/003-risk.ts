import type { Kysely } from 'kysely';
import { autoIncrementId, type MigrationDialect } from './portable.js';

/**
 * Adaptive authentication (docs/risk.md): each user's successful sign-ins as the risk engine saw
 * them, the browsers a user chose to remember, and each session's own idle timeout (a riskier
 * sign-in gets a shorter one, which every later touch must keep).
 */
export async function up(db: Kysely<any>, dialect: MigrationDialect): Promise<void> {
  const id = autoIncrementId(dialect);
  await db.schema
    .createTable('login_history')
    .addColumn('id', id.type, id.build)
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('ip', 'text', (c) => c.notNull())
    .addColumn('asn', 'text', (c) => c.notNull())
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('city', 'text', (c) => c.notNull())
    .addColumn('latitude', 'double precision')
    .addColumn('longitude', 'double precision')
    .addColumn('user_agent', 'text', (c) => c.notNull())
    .addColumn('browser', 'text', (c) => c.notNull())
    .addColumn('os', 'text', (c) => c.notNull())
    .addColumn('device_type', 'text', (c) => c.notNull())
    // SHA-256 of the device cookie's id part; null when the browser sent none.
    .addColumn('device_hash', 'text')
    .execute();
  await db.schema.createIndex('login_history_user_at').on('login_history').columns(['user_id', 'at']).execute();
  await db.schema.createIndex('login_history_at').on('login_history').column('at').execute();

  await db.schema
    .createTable('trusted_devices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('device_hash', 'text', (c) => c.notNull())
    // SHA-256 of the device cookie's secret part, replaced at every use (rotation).
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('ip', 'text', (c) => c.notNull())
    .addColumn('location', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema.createIndex('trusted_devices_user').on('trusted_devices').column('user_id').execute();
  await db.schema.createIndex('trusted_devices_device').on('trusted_devices').column('device_hash').execute();

  await db.schema.alterTable('sessions').addColumn('idle_timeout_ms', 'bigint').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('idle_timeout_ms').execute();
  await db.schema.dropTable('trusted_devices').execute();
  await db.schema.dropTable('login_history').execute();
}
