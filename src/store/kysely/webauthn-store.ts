import type { Kysely, Selectable } from 'kysely';
import type { CeremonyPurpose } from '../../core/factors/webauthn.js';
import type { UserId } from '../../core/ids.js';
import type { Database, WebAuthnChallengesTable, WebAuthnCredentialsTable } from '../schema.js';
import type { WebAuthnChallenge, WebAuthnCredential, WebAuthnStore } from '../store.js';

/** True for a unique-constraint violation in SQLite or PostgreSQL. */
const isUniqueViolation = (err: unknown): boolean => {
  const e = err as { code?: string; message?: string };
  return (
    e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    e.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e.code === '23505' ||
    /UNIQUE constraint/.test(e.message ?? '')
  );
};

const changed = (result: { numUpdatedRows?: bigint; numDeletedRows?: bigint }): number =>
  Number(result.numUpdatedRows ?? result.numDeletedRows ?? 0n);

/** PostgreSQL returns bigint columns as strings; SQLite as numbers. */
const num = (value: number | string | bigint): number => Number(value);

function toCredential(row: Selectable<WebAuthnCredentialsTable>): WebAuthnCredential {
  return {
    id: row.id,
    userId: row.user_id as UserId,
    name: row.name,
    publicKey: row.public_key,
    counter: num(row.counter),
    transports: JSON.parse(row.transports) as string[],
    aaguid: row.aaguid,
    backupEligible: num(row.backup_eligible) === 1,
    backupState: num(row.backup_state) === 1,
    createdAt: num(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : num(row.last_used_at),
  };
}

function toChallenge(row: Selectable<WebAuthnChallengesTable>): WebAuthnChallenge {
  return {
    challengeHash: row.challenge_hash,
    purpose: row.purpose as CeremonyPurpose,
    userId: row.user_id,
    boundTo: row.bound_to,
    createdAt: num(row.created_at),
    expiresAt: num(row.expires_at),
    usedAt: row.used_at === null ? null : num(row.used_at),
  };
}

export function webauthnStore(db: Kysely<Database>): WebAuthnStore {
  return {
    async listCredentials(userId) {
      const rows = await db.selectFrom('webauthn_credentials').selectAll().where('user_id', '=', userId).orderBy('created_at').execute();
      return rows.map(toCredential);
    },
    async countCredentials(userId) {
      const row = await db
        .selectFrom('webauthn_credentials')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('user_id', '=', userId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async findCredential(id) {
      const row = await db.selectFrom('webauthn_credentials').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toCredential(row);
    },
    async addCredential(c) {
      try {
        await db
          .insertInto('webauthn_credentials')
          .values({
            id: c.id,
            user_id: c.userId,
            name: c.name,
            public_key: c.publicKey,
            counter: c.counter,
            transports: JSON.stringify(c.transports),
            aaguid: c.aaguid,
            backup_eligible: c.backupEligible ? 1 : 0,
            backup_state: c.backupState ? 1 : 0,
            created_at: c.createdAt,
            last_used_at: c.lastUsedAt,
          })
          .execute();
        return true;
      } catch (err) {
        if (isUniqueViolation(err)) return false;
        throw err;
      }
    },
    async renameCredential(userId, id, name) {
      const result = await db
        .updateTable('webauthn_credentials')
        .set({ name })
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return changed(result) === 1;
    },
    async removeCredential(userId, id) {
      const result = await db.deleteFrom('webauthn_credentials').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
      return changed(result) === 1;
    },
    async recordUse(id, expectedCounter, update) {
      const result = await db
        .updateTable('webauthn_credentials')
        .set({ counter: update.counter, backup_state: update.backupState ? 1 : 0, last_used_at: update.at })
        .where('id', '=', id)
        .where('counter', '=', expectedCounter)
        .executeTakeFirst();
      return changed(result) === 1;
    },
    async saveChallenge(c) {
      await db.transaction().execute(async (tx) => {
        // Expired challenges go, and so does an unanswered one for the same ceremony and binding:
        // at most one live challenge per session or pending sign-in and ceremony.
        await tx
          .deleteFrom('webauthn_challenges')
          .where('user_id', '=', c.userId)
          .where((eb) =>
            eb.or([
              eb('expires_at', '<=', c.createdAt),
              eb.and([eb('bound_to', '=', c.boundTo), eb('purpose', '=', c.purpose), eb('used_at', 'is', null)]),
            ]),
          )
          .execute();
        await tx
          .insertInto('webauthn_challenges')
          .values({
            challenge_hash: c.challengeHash,
            purpose: c.purpose,
            user_id: c.userId,
            bound_to: c.boundTo,
            created_at: c.createdAt,
            expires_at: c.expiresAt,
            used_at: c.usedAt,
          })
          .execute();
      });
    },
    async findChallenge(challengeHash) {
      const row = await db.selectFrom('webauthn_challenges').selectAll().where('challenge_hash', '=', challengeHash).executeTakeFirst();
      return row && toChallenge(row);
    },
    async consumeChallenge(challengeHash, now) {
      const result = await db
        .updateTable('webauthn_challenges')
        .set({ used_at: now })
        .where('challenge_hash', '=', challengeHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return changed(result) === 1;
    },
  };
}
