import type { Kysely } from 'kysely';

/**
 * Each session remembers the sign-in that opened it: country, network (ASN) and the risk engine's
 * band and score, so the admin console can filter live sessions by them. All nullable: sessions
 * from before this migration, and sign-ins without geo data or with risk off, have none.
 * One column per ALTER TABLE: SQLite adds only one at a time.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('country', 'text').execute();
  await db.schema.alterTable('sessions').addColumn('asn', 'text').execute();
  await db.schema.alterTable('sessions').addColumn('risk_band', 'text').execute();
  await db.schema.alterTable('sessions').addColumn('risk_score', 'double precision').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const column of ['risk_score', 'risk_band', 'asn', 'country']) {
    await db.schema.alterTable('sessions').dropColumn(column).execute();
  }
}
