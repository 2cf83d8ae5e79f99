import type { Kysely, Selectable } from 'kysely';
import type { SessionId, TokenHash, UserId } from '../../core/ids.js';
import type { Database, RefreshFamiliesTable, RefreshTokensTable } from '../schema.js';
import type { RefreshFamily, RefreshTokenRecord, RefreshTokenStore } from '../store.js';

const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

const toFamily = (r: Selectable<RefreshFamiliesTable>): RefreshFamily => ({
  id: r.id,
  sessionId: r.session_id as SessionId,
  userId: r.user_id as UserId,
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
  idleExpiresAt: Number(r.idle_expires_at),
  revokedAt: numOrNull(r.revoked_at),
  revokedReason: r.revoked_reason,
});

const toToken = (r: Selectable<RefreshTokensTable>): RefreshTokenRecord => ({
  tokenHash: r.token_hash as TokenHash,
  familyId: r.family_id,
  issuedAt: Number(r.issued_at),
  usedAt: numOrNull(r.used_at),
});

/** Refresh-token families and their tokens (migration 002); only SHA-256 hashes of tokens are stored. */
export function refreshTokenStore(db: Kysely<Database>): RefreshTokenStore {
  return {
    async createFamily(family, firstTokenHash) {
      await db.transaction().execute(async (tx) => {
        await tx
          .insertInto('refresh_families')
          .values({
            id: family.id,
            session_id: family.sessionId,
            user_id: family.userId,
            created_at: family.createdAt,
            expires_at: family.expiresAt,
            idle_expires_at: family.idleExpiresAt,
            revoked_at: family.revokedAt,
            revoked_reason: family.revokedReason,
          })
          .execute();
        await tx
          .insertInto('refresh_tokens')
          .values({ token_hash: firstTokenHash, family_id: family.id, issued_at: family.createdAt, used_at: null })
          .execute();
      });
    },
    async find(tokenHash) {
      const token = await db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
      if (!token) return undefined;
      const family = await db.selectFrom('refresh_families').selectAll().where('id', '=', token.family_id).executeTakeFirst();
      return family && { token: toToken(token), family: toFamily(family) };
    },
    async rotate(usedHash, nextHash, now, idleExpiresAt) {
      return db.transaction().execute(async (tx) => {
        // The claim: of two requests presenting the same token, the database lets exactly one
        // change this row (PostgreSQL re-checks the WHERE after the row lock; SQLite serialises writers).
        const claim = await tx
          .updateTable('refresh_tokens')
          .set({ used_at: now })
          .where('token_hash', '=', usedHash)
          .where('used_at', 'is', null)
          .executeTakeFirst();
        if (Number(claim.numUpdatedRows) !== 1) return false;
        const used = await tx.selectFrom('refresh_tokens').select('family_id').where('token_hash', '=', usedHash).executeTakeFirstOrThrow();
        await tx
          .insertInto('refresh_tokens')
          .values({ token_hash: nextHash, family_id: used.family_id, issued_at: now, used_at: null })
          .execute();
        await tx
          .updateTable('refresh_families')
          .set({ idle_expires_at: idleExpiresAt })
          .where('id', '=', used.family_id)
          .where('revoked_at', 'is', null)
          .execute();
        return true;
      });
    },
    async revokeFamily(id, now, reason) {
      const result = await db
        .updateTable('refresh_families')
        .set({ revoked_at: now, revoked_reason: reason })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async revokeForSession(sessionId, now, reason) {
      const result = await db
        .updateTable('refresh_families')
        .set({ revoked_at: now, revoked_reason: reason })
        .where('session_id', '=', sessionId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
    async moveToSession(from, to) {
      const result = await db
        .updateTable('refresh_families')
        .set({ session_id: to })
        .where('session_id', '=', from)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },
  };
}
