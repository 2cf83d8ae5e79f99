import type { Kysely } from 'kysely';

/**
 * Continuous evaluation (core/session/continuity.ts): the SHA-256 of the device cookie id a cookie
 * session was created with, so a replay of its cookie from a browser without that device cookie is
 * recognised. Null for sessions not bound to a device (token sign-ins, API clients).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('device_hash', 'text').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('device_hash').execute();
}
