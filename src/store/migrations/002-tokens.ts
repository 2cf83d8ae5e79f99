import type { Kysely } from 'kysely';

/**
 * Tokens for APIs, SPAs and mobile apps (docs/tokens.md):
 * - signing_keys: Ed25519 keys that sign access tokens. The public key is a JWK; the private key is
 *   sealed with the master key (AES-256-GCM, the key id as associated data). A retired key keeps
 *   verifying until `verify_until`, when every token it signed has expired.
 * - refresh_families: one per token sign-in, bound to its session; lifetimes of its own.
 * - refresh_tokens: every refresh token ever issued in a family, as SHA-256 only, with when it was
 *   used. A used one presented again is theft (RFC 9700 §4.14.2).
 * - pending_logins.session_type: a sign-in that asked for tokens keeps asking through its second factor.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('algorithm', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('private_sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('retired_at', 'bigint')
    .addColumn('verify_until', 'bigint')
    .execute();

  await db.schema
    .createTable('refresh_families')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('idle_expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .addColumn('revoked_reason', 'text')
    .execute();
  await db.schema.createIndex('refresh_families_session').on('refresh_families').column('session_id').execute();

  await db.schema
    .createTable('refresh_tokens')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('family_id', 'text', (c) => c.notNull().references('refresh_families.id').onDelete('cascade'))
    .addColumn('issued_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .execute();
  await db.schema.createIndex('refresh_tokens_family').on('refresh_tokens').column('family_id').execute();

  await db.schema
    .alterTable('pending_logins')
    .addColumn('session_type', 'text', (c) => c.notNull().defaultTo('cookie'))
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('pending_logins').dropColumn('session_type').execute();
  await db.schema.dropTable('refresh_tokens').execute();
  await db.schema.dropTable('refresh_families').execute();
  await db.schema.dropTable('signing_keys').execute();
}
