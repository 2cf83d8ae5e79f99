import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { HousekeepingStore } from '../store.js';

const changed = (result: { numDeletedRows: bigint }): number => Number(result.numDeletedRows);

/**
 * Each call deletes one batch, chosen by an indexed cut-off (migration 008) and limited, the same SQL
 * on SQLite and PostgreSQL. Sessions take their refresh-token families and tokens with them
 * (ON DELETE CASCADE, migration 002).
 */
export function housekeepingStore(db: Kysely<Database>): HousekeepingStore {
  return {
    async deleteSessionsExpiredBefore(before, limit) {
      const batch = db.selectFrom('sessions').select('id').where('expires_at', '<', before).limit(limit);
      return changed(await db.deleteFrom('sessions').where('id', 'in', batch).executeTakeFirstOrThrow());
    },
    async deletePendingLoginsExpiredBefore(before, limit) {
      const batch = db.selectFrom('pending_logins').select('id').where('expires_at', '<', before).limit(limit);
      return changed(await db.deleteFrom('pending_logins').where('id', 'in', batch).executeTakeFirstOrThrow());
    },
    async deleteWebAuthnChallengesExpiredBefore(before, limit) {
      const batch = db.selectFrom('webauthn_challenges').select('challenge_hash').where('expires_at', '<', before).limit(limit);
      return changed(await db.deleteFrom('webauthn_challenges').where('challenge_hash', 'in', batch).executeTakeFirstOrThrow());
    },
    async deleteFinishedWebhookDeliveriesBefore(before, limit) {
      return db.transaction().execute(async (tx) => {
        const ids = (
          await tx
            .selectFrom('webhook_deliveries')
            .select('id')
            .where('created_at', '<', before)
            .where('status', 'in', ['delivered', 'failed'])
            .limit(limit)
            .execute()
        ).map((row) => row.id);
        if (ids.length === 0) return 0;
        await tx.deleteFrom('webhook_attempts').where('delivery_id', 'in', ids).execute();
        return changed(await tx.deleteFrom('webhook_deliveries').where('id', 'in', ids).executeTakeFirstOrThrow());
      });
    },
  };
}
