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

/**
 * The latest times per session id, by column: ids in one array, times in one Float64Array. A
 * batch lives for `intervalMs` and more, long enough for V8 to move what it holds to the old
 * generation; as a Map of small objects (with a boxed number per time) every touch left about
 * 250 bytes there to be collected later (the bench's miss path ended at 254–260 MB of RSS, 234 and
 * 246 with columns; bench/README.md). Columns leave an array slot and 16 bytes per touch.
 */
export class TouchBatch {
  /** Session ids in the order first touched; `times` holds lastSeenAt, idleExpiresAt for each, in that order. */
  readonly ids: string[] = [];
  private timesColumn = new Float64Array(128);
  private readonly index = new Map<string, number>();

  /** Keeps the latest times given for `id`. */
  set(id: string, lastSeenAt: number, idleExpiresAt: number): void {
    let i = this.index.get(id);
    if (i === undefined) {
      i = this.ids.length;
      this.ids.push(id);
      this.index.set(id, i);
      if (2 * i + 2 > this.timesColumn.length) {
        const grown = new Float64Array(this.timesColumn.length * 2);
        grown.set(this.timesColumn);
        this.timesColumn = grown;
      }
    }
    this.timesColumn[2 * i] = lastSeenAt;
    this.timesColumn[2 * i + 1] = idleExpiresAt;
  }

  get(id: string): TouchTimes | undefined {
    const i = this.index.get(id);
    return i === undefined ? undefined : { lastSeenAt: this.timesColumn[2 * i]!, idleExpiresAt: this.timesColumn[2 * i + 1]! };
  }

  get size(): number {
    return this.ids.length;
  }

  /** lastSeenAt, idleExpiresAt of `ids[i]` at 2i and 2i + 1 (a view: copy it to keep it). */
  get times(): Float64Array {
    return this.timesColumn.subarray(0, 2 * this.ids.length);
  }

  static of(entries: Iterable<[string, TouchTimes]>): TouchBatch {
    const batch = new TouchBatch();
    for (const [id, times] of entries) batch.set(id, times.lastSeenAt, times.idleExpiresAt);
    return batch;
  }
}

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
  let pending = new TouchBatch();
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();
  /** Batches sent and not yet answered: still shown to this node's reads until they land. */
  const inFlight = new Set<TouchBatch>();

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.size === 0) return flushing;
    const batch = pending;
    pending = new TouchBatch();
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
      // Queued, not written: the caller has nothing to wait for (a batch that fails goes to onError).
      touch(id, lastSeenAt, idleExpiresAt) {
        pending.set(id, lastSeenAt, idleExpiresAt);
        if (pending.size >= maxBatch) void flush();
        else timer ??= setTimeout(() => void flush(), intervalMs).unref();
        return undefined;
      },
    },
    async close() {
      await flush();
      await store.close();
    },
  };
}
