import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { TouchBatchWriter } from '../batched-touches.js';

/**
 * A batch of sliding-expiry writes (../batched-touches.ts) as one PostgreSQL statement: one round
 * trip, one commit. Its text never changes, so PostgreSQL plans it once. GREATEST: a batch from a
 * node that saw the session earlier never moves the times back.
 */
export function postgresTouchBatches(db: Kysely<Database>): TouchBatchWriter {
  return async (batch) => {
    const { ids, times } = batch;
    const seen = ids.map((_, i) => times[2 * i]!);
    const idle = ids.map((_, i) => times[2 * i + 1]!);
    await sql`
      UPDATE sessions AS s
      SET last_seen_at = GREATEST(s.last_seen_at, v.last_seen_at), idle_expires_at = GREATEST(s.idle_expires_at, v.idle_expires_at)
      FROM unnest(${ids}::text[], ${seen}::bigint[], ${idle}::bigint[]) AS v(id, last_seen_at, idle_expires_at)
      WHERE s.id = v.id AND s.revoked_at IS NULL`.execute(db);
  };
}
