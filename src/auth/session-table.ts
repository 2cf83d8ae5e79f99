import type { SessionId, UserId } from '../core/ids.js';
import type { Aal, AuthMethod, FactorUse, Session, SessionKind, SessionOrigin } from '../core/session/session.js';

/**
 * The session cache's sessions, stored by column in slots rather than as objects. A Session read
 * from the store is about 15 heap objects (the object, its amr array and factor uses, a boxed number
 * for every timestamp): about 590 bytes each, and about 1.4 million objects for every major GC to
 * mark with 100k sessions cached. Here a slot is its numbers in a Float64Array, its small codes in a
 * Uint8Array and a few string references; `read` builds a fresh Session from it, a short-lived
 * object that dies young. bench/README.md has the measurements.
 *
 * Nothing is copied as the table fills: the typed arrays are allocated for up to MAX_PREALLOCATED
 * slots at once (their pages become resident only as slots are written), the references in blocks
 * of SLOTS_PER_BLOCK as slots are used. Growing by doubling left the old copies as garbage while
 * the cache filled: 20–30 MB of peak RSS with 100k sessions.
 *
 * Anything the compact form cannot hold (an unknown kind or factor, more than AMR_INLINE factor uses,
 * a revocation reason, a risk origin) is kept as it was in `uncommon`, so `read` always gives back
 * a session equal to the one that was put.
 */

/** Numbers per slot, as Float64: null and absent are NaN (a stored timestamp is never NaN). */
const AUTH_TIME = 0;
const CREATED_AT = 1;
const LAST_SEEN_AT = 2;
const IDLE_EXPIRES_AT = 3;
const EXPIRES_AT = 4;
const REVOKED_AT = 5;
const IDLE_TIMEOUT_MS = 6;
const CACHED_AT = 7;
/** Factor uses held in the columns; a session signed in with a password and one second factor has two. */
const AMR_INLINE = 3;
const AMR_AT = 8;
const NUMBERS = AMR_AT + AMR_INLINE;

/** Small codes per slot, as Uint8. */
const KIND = 0;
const AAL = 1;
const AMR_COUNT = 2;
const AMR_METHOD = 3;
const CODES = AMR_METHOD + AMR_INLINE;

const KINDS: readonly SessionKind[] = ['full', 'enrollment'];
const METHODS: readonly AuthMethod[] = ['pwd', 'otp', 'rc', 'hwk'];
/** In KIND or AMR_COUNT: the value is in `uncommon`. */
const UNCOMMON = 255;

interface Uncommon {
  kind?: SessionKind;
  amr?: FactorUse[];
  revokedReason?: string | null;
  origin?: SessionOrigin;
}

/** References per slot, in its block. */
const ID = 0;
const USER_ID = 1;
const IP = 2;
const USER_AGENT = 3;
const DEVICE_HASH = 4;
const UNCOMMON_FIELDS = 5;
/** The key the cache finds the slot by. */
const KEY = 6;
const REFS = 7;

const SLOTS_PER_BLOCK = 2048;
/** Beyond this many slots the typed arrays grow by doubling instead of being allocated whole. */
const MAX_PREALLOCATED = 131_072;

export class SessionTable {
  private numbers: Float64Array;
  private codes: Uint8Array;
  /** Block b holds the references of slots b * SLOTS_PER_BLOCK onwards, REFS per slot. */
  private readonly blocks: unknown[][] = [];
  /** Slots given back, reused first; `used` is one past the highest slot ever handed out. */
  private readonly free: number[] = [];
  private used = 0;
  private capacity = 0;

  /** Holds at most `maxSlots` sessions; memory becomes resident as slots are used. */
  constructor(private readonly maxSlots: number) {
    this.numbers = new Float64Array(0);
    this.codes = new Uint8Array(0);
  }

  private ref<T>(slot: number, field: number): T {
    return this.blocks[Math.floor(slot / SLOTS_PER_BLOCK)]![(slot % SLOTS_PER_BLOCK) * REFS + field] as T;
  }

  private setRef(slot: number, field: number, value: unknown): void {
    this.blocks[Math.floor(slot / SLOTS_PER_BLOCK)]![(slot % SLOTS_PER_BLOCK) * REFS + field] = value;
  }

  /** A slot to `put` a session in, or undefined when all `maxSlots` are taken. */
  allocate(): number | undefined {
    const reused = this.free.pop();
    if (reused !== undefined) return reused;
    if (this.used >= this.maxSlots) return undefined;
    if (this.used >= this.capacity) this.grow();
    if (this.used % SLOTS_PER_BLOCK === 0) {
      const block: unknown[] = [];
      for (let i = 0; i < SLOTS_PER_BLOCK * REFS; i++) block.push(undefined);
      this.blocks.push(block);
    }
    return this.used++;
  }

  /** Gives a slot back; its strings are let go at once. */
  release(slot: number): void {
    for (let field = 0; field < REFS; field++) this.setRef(slot, field, undefined);
    this.free.push(slot);
  }

  /** Forgets every slot and gives the memory back. */
  clear(): void {
    this.blocks.length = 0;
    this.free.length = 0;
    this.used = 0;
    this.capacity = 0;
    this.numbers = new Float64Array(0);
    this.codes = new Uint8Array(0);
  }

  /**
   * Stores `session` in `slot`, found by `key`. Strings are kept as given (the caller may pool
   * them); objects are copied, so later changes to `session` do not reach the table.
   */
  put(slot: number, key: string, session: Session, cachedAt: number): void {
    const n = slot * NUMBERS;
    const c = slot * CODES;
    const numbers = this.numbers;
    const codes = this.codes;
    numbers[n + AUTH_TIME] = session.authTime;
    numbers[n + CREATED_AT] = session.createdAt;
    numbers[n + LAST_SEEN_AT] = session.lastSeenAt;
    numbers[n + IDLE_EXPIRES_AT] = session.idleExpiresAt;
    numbers[n + EXPIRES_AT] = session.expiresAt;
    numbers[n + REVOKED_AT] = session.revokedAt ?? NaN;
    numbers[n + IDLE_TIMEOUT_MS] = session.idleTimeoutMs ?? NaN;
    numbers[n + CACHED_AT] = cachedAt;
    codes[c + AAL] = session.aal;
    this.setRef(slot, KEY, key);
    this.setRef(slot, ID, session.id);
    this.setRef(slot, USER_ID, session.userId);
    this.setRef(slot, IP, session.ip);
    this.setRef(slot, USER_AGENT, session.userAgent);
    this.setRef(slot, DEVICE_HASH, session.deviceHash);

    let uncommon: Uncommon | undefined;
    const kind = KINDS.indexOf(session.kind);
    codes[c + KIND] = kind < 0 ? UNCOMMON : kind;
    if (kind < 0) (uncommon ??= {}).kind = session.kind;
    const amr = session.amr;
    let inline = amr.length <= AMR_INLINE;
    for (let i = 0; inline && i < amr.length; i++) {
      const method = METHODS.indexOf(amr[i]!.method);
      if (method < 0) inline = false;
      codes[c + AMR_METHOD + i] = method;
      numbers[n + AMR_AT + i] = amr[i]!.at;
    }
    codes[c + AMR_COUNT] = inline ? amr.length : UNCOMMON;
    if (!inline) (uncommon ??= {}).amr = amr.map((use) => ({ ...use }));
    if (session.revokedReason !== null) (uncommon ??= {}).revokedReason = session.revokedReason;
    if (session.origin !== undefined) (uncommon ??= {}).origin = { ...session.origin };
    this.setRef(slot, UNCOMMON_FIELDS, uncommon);
  }

  /** A new Session object equal to the one put in `slot`, with the times `setTimes` moved since. */
  read(slot: number): Session {
    const n = slot * NUMBERS;
    const c = slot * CODES;
    const numbers = this.numbers;
    const codes = this.codes;
    const block = this.blocks[Math.floor(slot / SLOTS_PER_BLOCK)]!;
    const r = (slot % SLOTS_PER_BLOCK) * REFS;
    const uncommon = block[r + UNCOMMON_FIELDS] as Uncommon | undefined;
    const revokedAt = numbers[n + REVOKED_AT]!;
    const session: Session = {
      id: block[r + ID] as SessionId,
      userId: block[r + USER_ID] as UserId,
      kind: codes[c + KIND] === UNCOMMON ? uncommon!.kind! : KINDS[codes[c + KIND]!]!,
      aal: codes[c + AAL] as Aal,
      amr: this.amrOf(slot, uncommon),
      authTime: numbers[n + AUTH_TIME]!,
      createdAt: numbers[n + CREATED_AT]!,
      lastSeenAt: numbers[n + LAST_SEEN_AT]!,
      idleExpiresAt: numbers[n + IDLE_EXPIRES_AT]!,
      expiresAt: numbers[n + EXPIRES_AT]!,
      ip: block[r + IP] as string,
      userAgent: block[r + USER_AGENT] as string,
      revokedAt: Number.isNaN(revokedAt) ? null : revokedAt,
      revokedReason: uncommon?.revokedReason ?? null,
    };
    const idleTimeoutMs = numbers[n + IDLE_TIMEOUT_MS]!;
    if (!Number.isNaN(idleTimeoutMs)) session.idleTimeoutMs = idleTimeoutMs;
    const deviceHash = block[r + DEVICE_HASH] as string | undefined;
    if (deviceHash !== undefined) session.deviceHash = deviceHash;
    if (uncommon?.origin !== undefined) session.origin = { ...uncommon.origin };
    return session;
  }

  /** A touch: the sliding-expiry times of the session in `slot`. */
  setTimes(slot: number, lastSeenAt: number, idleExpiresAt: number): void {
    this.numbers[slot * NUMBERS + LAST_SEEN_AT] = lastSeenAt;
    this.numbers[slot * NUMBERS + IDLE_EXPIRES_AT] = idleExpiresAt;
  }

  /** Undefined once the slot was released. */
  key(slot: number): string | undefined {
    return this.ref(slot, KEY);
  }

  sessionId(slot: number): SessionId {
    return this.ref(slot, ID);
  }

  userId(slot: number): UserId {
    return this.ref(slot, USER_ID);
  }

  /** The slots holding a session of `userId`: a scan, for the rare eviction of a whole user. */
  slotsOf(userId: UserId): number[] {
    const slots: number[] = [];
    for (let slot = 0; slot < this.used; slot++) if (this.ref(slot, USER_ID) === userId) slots.push(slot);
    return slots;
  }

  cachedAt(slot: number): number {
    return this.numbers[slot * NUMBERS + CACHED_AT]!;
  }

  private amrOf(slot: number, uncommon: Uncommon | undefined): FactorUse[] {
    const c = slot * CODES;
    const count = this.codes[c + AMR_COUNT]!;
    if (count === UNCOMMON) return uncommon!.amr!.map((use) => ({ ...use }));
    const amr: FactorUse[] = [];
    for (let i = 0; i < count; i++) {
      amr.push({ method: METHODS[this.codes[c + AMR_METHOD + i]!]!, at: this.numbers[slot * NUMBERS + AMR_AT + i]! });
    }
    return amr;
  }

  private grow(): void {
    this.capacity = Math.min(this.maxSlots, Math.max(MAX_PREALLOCATED, this.capacity * 2));
    const numbers = new Float64Array(this.capacity * NUMBERS);
    numbers.set(this.numbers);
    this.numbers = numbers;
    const codes = new Uint8Array(this.capacity * CODES);
    codes.set(this.codes);
    this.codes = codes;
  }
}
