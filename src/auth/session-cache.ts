import type { SessionId, TokenHash, UserId } from '../core/ids.js';
import type { Session } from '../core/session/session.js';
import type { ExternalChanges, User } from '../store/store.js';
import { SessionTable } from './session-table.js';

export interface CachedAuthentication {
  session: Session;
  user: User;
}

export interface SessionCacheOptions {
  /**
   * Longest an entry is trusted, asked on every lookup. Nodes sharing PostgreSQL cannot see each
   * other's writes: while revocations are broadcast to this node it is long, when they cannot be it
   * is short, so a revocation elsewhere lands within it. Default: forever (SQLite's log of changes suffices).
   */
  maxAgeMs?: () => number;
  /** Monotonic milliseconds (performance.now): cache freshness is real elapsed time, not the domain clock. */
  now?: () => number;
}

/** Field by field: a User holds only strings, numbers, booleans and null. */
function sameUser(a: User, b: User): boolean {
  if (a === b) return true;
  const keys = Object.keys(a) as Array<keyof User>;
  if (keys.length !== Object.keys(b).length) return false;
  for (const key of keys) if (a[key] !== b[key]) return false;
  return true;
}

/**
 * Strings that many cached sessions repeat (browser, address, kind), each held once. A session read
 * from the store brings its own copy of every text column: about 18% of the cache's memory in a heap
 * snapshot of the bench's sessions. Bounded: past `max` distinct values it starts over.
 */
export class StringPool {
  private readonly strings = new Map<string, string>();
  constructor(private readonly max = 10_000) {}

  intern<T extends string>(value: T): T {
    const known = this.strings.get(value);
    if (known !== undefined) return known as T;
    if (this.strings.size >= this.max) this.strings.clear();
    this.strings.set(value, value);
    return value;
  }
}

/** The users of the cached sessions, each held once however many of its sessions are cached. */
interface CachedUser {
  user: User;
  /** How many of its sessions are cached: it is let go with the last. */
  sessions: number;
}

/**
 * Validated sessions kept in memory, so the common validation is a hash and a map lookup, not a
 * query. Correctness rests on eviction: every revocation, user change and factor reset in this
 * process evicts (see cached-store.ts), and `externalChanges` (on SQLite, the log its triggers keep
 * of what other connections changed: the CLI, another process) evicts what someone else changed,
 * asked on every lookup. Sessions are held by column (session-table.ts): `get` returns a new object
 * each time, so a caller changing what it got changes nothing here; `touched` is how times move.
 */
export class SessionCache {
  private readonly table: SessionTable;
  /** Token hash (or access-token cache key) → slot; insertion order is age, oldest first. */
  private readonly slotByHash = new Map<TokenHash, number>();
  private readonly slotBySession = new Map<SessionId, number>();
  private readonly users = new Map<UserId, CachedUser>();
  private readonly pool = new StringPool();
  /** Moves on every eviction, so a lookup that raced with a revocation does not cache what it read before it. */
  private generation = 0;

  private readonly maxAgeMs: (() => number) | undefined;
  private readonly now: () => number;

  constructor(
    private readonly maxEntries: number,
    private readonly externalChanges: () => ExternalChanges = () => null,
    options: SessionCacheOptions = {},
  ) {
    this.table = new SessionTable(maxEntries);
    this.maxAgeMs = options.maxAgeMs;
    this.now = options.now ?? (() => performance.now());
  }

  get(tokenHash: TokenHash): CachedAuthentication | undefined {
    if (this.maxEntries === 0) return undefined;
    const changes = this.externalChanges();
    if (changes === 'unknown') this.clear();
    else if (changes !== null) {
      for (const id of changes.sessions) this.evictSession(id as SessionId);
      for (const id of changes.users) this.evictUser(id as UserId);
    }
    const slot = this.slotByHash.get(tokenHash);
    if (slot === undefined) return undefined;
    if (this.maxAgeMs !== undefined && this.now() - this.table.cachedAt(slot) >= this.maxAgeMs()) {
      this.remove(slot);
      return undefined;
    }
    return { session: this.table.read(slot), user: this.users.get(this.table.userId(slot))!.user };
  }

  /** Call before reading the store; pass the value to set(). */
  snapshot(): number {
    return this.generation;
  }

  set(tokenHash: TokenHash, entry: CachedAuthentication, snapshot: number): void {
    const { session, user } = entry;
    if (this.maxEntries === 0 || snapshot !== this.generation || session.userId !== user.id) return;
    // One entry per session, so evictSession() finds it: a session may be looked up by its token's
    // hash or, for access tokens, by its id (auth/access-tokens.ts), and only the latest key is kept.
    for (const previous of [this.slotBySession.get(session.id), this.slotByHash.get(tokenHash)]) {
      if (previous !== undefined && this.table.key(previous) !== undefined) this.remove(previous);
    }
    let slot = this.table.allocate();
    if (slot === undefined) {
      this.remove(this.slotByHash.values().next().value!);
      slot = this.table.allocate()!;
    }
    // A user with many sessions is held once, not once per session (about 300 bytes each). What was
    // just read replaces an older copy: a change that matters evicts the user's sessions anyway.
    // Users are never mutated in place, so sharing one is invisible.
    let cached = this.users.get(user.id);
    if (cached === undefined) this.users.set(user.id, (cached = { user, sessions: 0 }));
    else if (!sameUser(cached.user, user)) cached.user = user;
    cached.sessions++;
    // An equal string in place of each repeated one: invisible to readers, and it keeps memory per entry down.
    this.table.put(
      slot,
      tokenHash,
      { ...session, userId: cached.user.id, ip: this.pool.intern(session.ip), userAgent: this.pool.intern(session.userAgent) },
      this.maxAgeMs !== undefined ? this.now() : 0,
    );
    this.slotByHash.set(tokenHash, slot);
    this.slotBySession.set(session.id, slot);
  }

  evictSession(id: SessionId): void {
    this.generation++;
    const slot = this.slotBySession.get(id);
    if (slot !== undefined) this.remove(slot);
  }

  evictUser(id: UserId): void {
    this.generation++;
    if (this.users.has(id)) for (const slot of this.table.slotsOf(id)) this.remove(slot);
    this.users.delete(id);
  }

  /** Keeps a cached session in step with a touch this process wrote. */
  touched(id: SessionId, lastSeenAt: number, idleExpiresAt: number): void {
    const slot = this.slotBySession.get(id);
    if (slot !== undefined) this.table.setTimes(slot, lastSeenAt, idleExpiresAt);
  }

  clear(): void {
    this.generation++;
    this.slotByHash.clear();
    this.slotBySession.clear();
    this.users.clear();
    this.table.clear();
  }

  get size(): number {
    return this.slotByHash.size;
  }

  private remove(slot: number): void {
    this.slotByHash.delete(this.table.key(slot) as TokenHash);
    this.slotBySession.delete(this.table.sessionId(slot));
    const userId = this.table.userId(slot);
    const cached = this.users.get(userId);
    if (cached !== undefined && --cached.sessions === 0) this.users.delete(userId);
    this.table.release(slot);
  }
}
