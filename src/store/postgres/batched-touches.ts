import { sql, type Kysely } from 'kysely';
import type { Database } from '../schema.js';
import type { Session } from '../../core/session/session.js';
import type { Store } from '../store.js';

/**
 * Sliding-expiry writes ("touches") on PostgreSQL, gathered into one statement per `intervalMs`.
 * With many active sessions each node sends thousands of one-row UPDATEs a second, each a round trip
 * and a commit (a WAL flush) on the server: that, not the validation, was what the bench's 100k
 * active sessions measured. A touch only moves last_seen_at and idle_expires_at forward, so it can
 * wait a moment and be merged:
 * - the validation does not wait for it, and this node reads its own pending touches at once (its
 *   session reads show them); other nodes see them within `intervalMs`;
 * - a batch never touches a revoked session (`revoked_at IS NULL`), so it cannot undo a revocation
 *   made meanwhile, here or on another node;
 * - lost (a crash, PostgreSQL down), a touch leaves the stored idle expiry where the previous one
 *   put it, at most one `session.touch_interval` earlier than it would be: a session may then end
 *   that much sooner, never later. Acknowledged writes (sign-ins, revocations, rotations) are not
 *   batched.
 */
export function withBatchedTouches(
  store: Store,
  db: Kysely<Database>,
  options: { intervalMs?: number; maxBatch?: number; onError?: (err: Error, dropped: number) => void } = {},
): Store {
  const intervalMs = options.intervalMs ?? 100;
  const maxBatch = options.maxBatch ?? 1000;
  /** The latest times per session id, waiting for the next flush. */
  let pending = new Map<string, { lastSeenAt: number; idleExpiresAt: number }>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  /** Batches sent and not yet answered: still shown to this node's reads until they land. */
  const inFlight = new Set<Map<string, { lastSeenAt: number; idleExpiresAt: number }>>();

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.size === 0) return flushing;
    const batch = pending;
    pending = new Map();
    inFlight.add(batch);
    const ids = [...batch.keys()];
    const seen = ids.map((id) => batch.get(id)!.lastSeenAt);
    const idle = ids.map((id) => batch.get(id)!.idleExpiresAt);
    // One statement, one round trip, one commit; its text never changes, so PostgreSQL plans it once.
    // GREATEST: a batch from a node that saw the session earlier never moves the times back.
    const write = sql`
      UPDATE sessions AS s
      SET last_seen_at = GREATEST(s.last_seen_at, v.last_seen_at), idle_expires_at = GREATEST(s.idle_expires_at, v.idle_expires_at)
      FROM unnest(${ids}::text[], ${seen}::bigint[], ${idle}::bigint[]) AS v(id, last_seen_at, idle_expires_at)
      WHERE s.id = v.id AND s.revoked_at IS NULL`
      .execute(db)
      .then(
        () => undefined,
        (err: Error) => options.onError?.(err, batch.size),
      )
      .finally(() => inFlight.delete(batch));
    flushing = flushing.then(() => write);
    return flushing;
  };

  /** This node reads its own touches at once: a stored session is shown with the times still on their way. */
  const withPending = <T extends Session | undefined>(session: T): T => {
    let times = session && pending.get(session.id);
    if (session && !times) for (const batch of inFlight) times = batch.get(session.id) ?? times;
    if (!times || !session) return session;
    return {
      ...session,
      lastSeenAt: Math.max(session.lastSeenAt, times.lastSeenAt),
      idleExpiresAt: Math.max(session.idleExpiresAt, times.idleExpiresAt),
    };
  };

  return {
    ...store,
    sessions: {
      ...store.sessions,
      async findById(id) {
        return withPending(await store.sessions.findById(id));
      },
      async findByTokenHash(tokenHash) {
        return withPending(await store.sessions.findByTokenHash(tokenHash));
      },
      async listActive(now, filter) {
        return (await store.sessions.listActive(now, filter)).map(withPending);
      },
      async touch(id, lastSeenAt, idleExpiresAt) {
        pending.set(id, { lastSeenAt, idleExpiresAt });
        if (pending.size >= maxBatch) void flush();
        else timer ??= setTimeout(() => void flush(), intervalMs).unref();
      },
    },
    async close() {
      await flush();
      await store.close();
    },
  };
}
