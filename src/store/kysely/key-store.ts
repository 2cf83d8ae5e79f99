import type { Kysely, Selectable } from 'kysely';
import type { Database, SigningKeysTable } from '../schema.js';
import type { SigningKeyRecord, SigningKeyStore } from '../store.js';

const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

const toKey = (r: Selectable<SigningKeysTable>): SigningKeyRecord => ({
  kid: r.kid,
  algorithm: 'EdDSA',
  publicJwk: JSON.parse(r.public_jwk) as Record<string, unknown>,
  privateSealed: r.private_sealed,
  createdAt: Number(r.created_at),
  retiredAt: numOrNull(r.retired_at),
  verifyUntil: numOrNull(r.verify_until),
});

/** Access-token signing keys (migration 002). */
export function signingKeyStore(db: Kysely<Database>): SigningKeyStore {
  return {
    async add(key) {
      await db
        .insertInto('signing_keys')
        .values({
          kid: key.kid,
          algorithm: key.algorithm,
          public_jwk: JSON.stringify(key.publicJwk),
          private_sealed: key.privateSealed,
          created_at: key.createdAt,
          retired_at: key.retiredAt,
          verify_until: key.verifyUntil,
        })
        .execute();
    },
    async list() {
      const rows = await db.selectFrom('signing_keys').selectAll().orderBy('created_at', 'desc').orderBy('kid', 'desc').execute();
      return rows.map(toKey);
    },
    async retireOthers(exceptKid, now, verifyUntil) {
      const result = await db
        .updateTable('signing_keys')
        .set({ retired_at: now, verify_until: verifyUntil })
        .where('kid', '!=', exceptKid)
        .where('retired_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async deleteExpired(now) {
      const result = await db
        .deleteFrom('signing_keys')
        .where('retired_at', 'is not', null)
        .where('verify_until', '<=', now)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
