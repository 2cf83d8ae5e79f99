import type { SessionId, TokenHash, UserId } from '../core/ids.js';
import type { Session } from '../core/session/session.js';
import type { ExternalChanges, User } from '../store/store.js';

export interface CachedAuthentication {
  session: Session;
  user: User;
  /** When it was read from the store (monotonic ms), for the max-age check; set by the cache. */
  cachedAt?: number;
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

/**
 * Validated sessions kept in memory, so the common validation is a hash and a map lookup, not a
 * query. Correctness rests on eviction: every revocation, user change and factor reset in this
 * process evicts (see cached-store.ts), and `externalChanges` (on SQLite, the log its triggers keep
 * of what other connections changed: the CLI, another process) evicts what someone else changed,
 * asked on every lookup.
 */
export class SessionCache {
  private readonly byHash = new Map<TokenHash, CachedAuthentication>();
  private readonly hashBySession = new Map<SessionId, TokenHash>();
  private readonly hashesByUser = new Map<UserId, Set<TokenHash>>();
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
    const entry = this.byHash.get(tokenHash);
    if (entry !== undefined && this.maxAgeMs !== undefined && this.now() - entry.cachedAt! >= this.maxAgeMs()) {
      this.remove(tokenHash);
      return undefined;
    }
    return entry;
  }

  /** Call before reading the store; pass the value to set(). */
  snapshot(): number {
    return this.generation;
  }

  set(tokenHash: TokenHash, entry: CachedAuthentication, snapshot: number): void {
    if (this.maxEntries === 0 || snapshot !== this.generation) return;
    // One entry per session, so evictSession() finds it: a session may be looked up by its token's
    // hash or, for access tokens, by its id (auth/access-tokens.ts), and only the latest key is kept.
    const previous = this.hashBySession.get(entry.session.id);
    if (previous !== undefined && previous !== tokenHash) this.remove(previous);
    if (this.byHash.size >= this.maxEntries) this.evictOldest();
    let hashes = this.hashesByUser.get(entry.user.id);
    if (!hashes) this.hashesByUser.set(entry.user.id, (hashes = new Set()));
    // A user with many sessions is held once, not once per session (about 300 bytes each): when an
    // entry of the same user reads exactly the same, this entry points at that copy instead.
    // Users are never mutated in place, so sharing one is invisible.
    const sibling = hashes.size > 0 ? this.byHash.get(hashes.values().next().value!) : undefined;
    if (sibling !== undefined && sibling.user !== entry.user && sameUser(sibling.user, entry.user)) entry.user = sibling.user;
    // An equal string in place of each repeated one: invisible to readers, and it keeps memory per entry down.
    const session = entry.session;
    if (session.userId === entry.user.id) session.userId = entry.user.id;
    session.kind = this.pool.intern(session.kind);
    session.ip = this.pool.intern(session.ip);
    session.userAgent = this.pool.intern(session.userAgent);
    if (this.maxAgeMs !== undefined) entry.cachedAt = this.now();
    this.byHash.set(tokenHash, entry);
    this.hashBySession.set(entry.session.id, tokenHash);
    hashes.add(tokenHash);
  }

  evictSession(id: SessionId): void {
    this.generation++;
    const hash = this.hashBySession.get(id);
    if (hash !== undefined) this.remove(hash);
  }

  evictUser(id: UserId): void {
    this.generation++;
    for (const hash of this.hashesByUser.get(id) ?? []) this.remove(hash);
    this.hashesByUser.delete(id);
  }

  /** Keeps a cached session in step with a touch this process wrote. */
  touched(id: SessionId, lastSeenAt: number, idleExpiresAt: number): void {
    const hash = this.hashBySession.get(id);
    const entry = hash === undefined ? undefined : this.byHash.get(hash);
    if (entry) {
      entry.session.lastSeenAt = lastSeenAt;
      entry.session.idleExpiresAt = idleExpiresAt;
    }
  }

  clear(): void {
    this.generation++;
    this.byHash.clear();
    this.hashBySession.clear();
    this.hashesByUser.clear();
  }

  get size(): number {
    return this.byHash.size;
  }

  private remove(hash: TokenHash): void {
    const entry = this.byHash.get(hash);
    if (!entry) return;
    this.byHash.delete(hash);
    this.hashBySession.delete(entry.session.id);
    this.hashesByUser.get(entry.user.id)?.delete(hash);
  }

  private evictOldest(): void {
    const oldest = this.byHash.keys().next();
    if (!oldest.done) this.remove(oldest.value);
  }
}
