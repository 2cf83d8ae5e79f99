import type { Session } from '../core/session/session.js';
import type { Store } from './store.js';

/**
 * Sliding-expiry writes ("touches") gathered and written in the background, one batch per
 * `intervalMs`. With many active sessions a store gets thousands of one-row UPDATEs a second: on
 * PostgreSQL each is a round trip and a commit, on SQLite a page write and a commit on the event loop
 * (bench/README.md). A touch only moves last_seen_at and idle_expires_at forward, so it can wait a
 * moment and be merged:
 * - the validation does not wait for it, and this process reads its own pending touches at once
 *   (its session reads show them); other processes see them within `intervalMs`;
 * - a batch never touches a revoked session (`revoked_at IS NULL`), so it cannot undo a revocation
 *   made meanwhile, here or elsewhere, and never moves the times back;
 * - lost (a crash, the database down), a touch leaves the stored idle expiry where the previous one
 *   put it, at most one `session.touch_interval` earlier than it would be: a session may then end
 *   that much sooner, never later. Acknowledged writes (sign-ins, revocations, rotations) are not
 *   batched.
 * How a batch is written is the store's: one UNNEST statement on PostgreSQL
 * (postgres/touch-batches.ts), a transaction on a thread of its own on SQLite (sqlite/background-writer.ts).
 */
export interface TouchTimes {
  lastSeenAt: number;
  idleExpiresAt: number;
}

/** The latest times per session id. */
export type TouchBatch = ReadonlyMap<string, TouchTimes>;

/** Writes one batch; resolves once it is stored, rejects when it was not. */
export type TouchBatchWriter = (batch: TouchBatch) => Promise<void>;

export function withBatchedTouches(
  store: Store,
  writeBatch: TouchBatchWriter,
  options: { intervalMs?: number; maxBatch?: number; onError?: (err: Error, dropped: number) => void } = {},
): Store {
  const intervalMs = options.intervalMs ?? 100;
  const maxBatch = options.maxBatch ?? 1000;
  /** The latest times per session id, waiting for the next flush. */
  let pending = new Map<string, TouchTimes>();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  /** Batches sent and not yet answered: still shown to this node's reads until they land. */
  const inFlight = new Set<TouchBatch>();

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.size === 0) return flushing;
    const batch = pending;
    pending = new Map();
    inFlight.add(batch);
    const write = writeBatch(batch)
      .then(
        () => undefined,
        (err: Error) => options.onError?.(err, batch.size),
      )
      .finally(() => inFlight.delete(batch));
    flushing = flushing.then(() => write);
    return flushing;
  };

  /** This process reads its own touches at once: a stored session is shown with the times still on their way. */
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
