import { LEVEL_COUNT, Level, type FeatureKeys, type LoginContext } from './context.js';

/** How long a sign-in counts and how many one user keeps; older or extra ones are forgotten. */
export interface RetentionLimits {
  retentionMs: number;
  perUserCap: number;
}

export const DEFAULT_RETENTION: RetentionLimits = { retentionMs: 180 * 86_400_000, perUserCap: 200 };

/** One remembered successful sign-in: its time, its feature keys and where it came from. */
export interface HistoryEntry {
  at: number;
  keys: FeatureKeys;
  latitude?: number;
  longitude?: number;
}

export interface ValueStat {
  count: number;
  lastSeen: number;
}

/** What a model reads of one user's history. */
export interface UserView {
  /** Successful sign-ins in the window (n_u). */
  readonly logins: number;
  stat(key: string): ValueStat | undefined;
  /** Distinct values the user has shown at a level. */
  distinct(level: number): number;
  /** The latest remembered sign-in, for travel speed. */
  latest(): HistoryEntry | undefined;
}

/** What a model reads of everyone's history: the attacker's stand-in (Freeman et al.). */
export interface GlobalView {
  /** All successful sign-ins in the window (N). */
  readonly logins: number;
  /** Users with at least one sign-in in the window (|U|). */
  readonly users: number;
  count(key: string): number;
  /** Sign-ins that had a value at this level (the device cookie may be missing). */
  total(level: number): number;
  distinct(level: number): number;
}

/**
 * Counts of feature values over all users' remembered sign-ins, kept equal to the sum of the
 * per-user histories: a sign-in enters when a user's history takes it and leaves when it evicts
 * it, so retention and caps apply to both without a second queue.
 */
export class GlobalCounts implements GlobalView {
  logins = 0;
  users = 0;
  private readonly counts = new Map<string, number>();
  private readonly totals = new Array<number>(LEVEL_COUNT).fill(0);
  private readonly distincts = new Array<number>(LEVEL_COUNT).fill(0);

  count(key: string): number {
    return this.counts.get(key) ?? 0;
  }
  total(level: number): number {
    return this.totals[level] ?? 0;
  }
  distinct(level: number): number {
    return this.distincts[level] ?? 0;
  }

  add(keys: FeatureKeys): void {
    this.logins++;
    for (let level = 0; level < keys.length; level++) {
      const key = keys[level];
      if (key === undefined || level === Level.device) continue; // cookies are per user only
      const before = this.counts.get(key) ?? 0;
      if (before === 0) this.distincts[level]!++;
      this.counts.set(key, before + 1);
      this.totals[level]!++;
    }
  }

  remove(keys: FeatureKeys): void {
    this.logins--;
    for (let level = 0; level < keys.length; level++) {
      const key = keys[level];
      if (key === undefined || level === Level.device) continue;
      const before = this.counts.get(key) ?? 0;
      if (before <= 1) {
        this.counts.delete(key);
        if (before === 1) this.distincts[level]!--;
      } else this.counts.set(key, before - 1);
      this.totals[level]!--;
    }
  }
}

/** One user's remembered sign-ins, oldest first, with counts per feature value kept in step. */
export class UserHistory implements UserView {
  private readonly entries: HistoryEntry[] = [];
  /** Index of the oldest live entry (entries before it are evicted; compacted now and then). */
  private head = 0;
  private readonly stats = new Map<string, ValueStat>();
  private readonly distincts = new Array<number>(LEVEL_COUNT).fill(0);

  get logins(): number {
    return this.entries.length - this.head;
  }
  stat(key: string): ValueStat | undefined {
    return this.stats.get(key);
  }
  distinct(level: number): number {
    return this.distincts[level] ?? 0;
  }
  latest(): HistoryEntry | undefined {
    return this.logins > 0 ? this.entries[this.entries.length - 1] : undefined;
  }
  /** The remembered sign-ins, oldest first (for persistence by the integration layer). */
  list(): HistoryEntry[] {
    return this.entries.slice(this.head);
  }

  add(entry: HistoryEntry): void {
    this.entries.push(entry);
    for (let level = 0; level < entry.keys.length; level++) {
      const key = entry.keys[level];
      if (key === undefined) continue;
      const stat = this.stats.get(key);
      if (stat) {
        stat.count++;
        stat.lastSeen = entry.at;
      } else {
        this.stats.set(key, { count: 1, lastSeen: entry.at });
        this.distincts[level]!++;
      }
    }
  }

  /** Drops and returns the oldest entry. */
  evictOldest(): HistoryEntry | undefined {
    if (this.logins === 0) return undefined;
    const entry = this.entries[this.head]!;
    this.head++;
    for (let level = 0; level < entry.keys.length; level++) {
      const key = entry.keys[level];
      if (key === undefined) continue;
      const stat = this.stats.get(key);
      if (!stat) continue;
      if (--stat.count === 0) {
        this.stats.delete(key);
        this.distincts[level]!--;
      }
    }
    if (this.head > 64 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
    return entry;
  }

  oldest(): HistoryEntry | undefined {
    return this.logins > 0 ? this.entries[this.head] : undefined;
  }
}

/** An empty history for users never seen: every value is new to them. */
export const EMPTY_USER: UserView = {
  logins: 0,
  stat: () => undefined,
  distinct: () => 0,
  latest: () => undefined,
};

/**
 * Every user's history and the global counts, updated incrementally (no rescans). Retention is
 * applied to a user when they sign in and to everyone by `prune(now)`, which the caller runs
 * now and then (replay: once per day of data).
 */
export class LoginHistory {
  readonly global = new GlobalCounts();
  private readonly users = new Map<string, UserHistory>();

  constructor(readonly limits: RetentionLimits = DEFAULT_RETENTION) {}

  user(userId: string): UserView {
    return this.users.get(userId) ?? EMPTY_USER;
  }

  get userCount(): number {
    return this.users.size;
  }

  /** Remembers a successful sign-in. */
  add(ctx: LoginContext, keys: FeatureKeys): void {
    let user = this.users.get(ctx.userId);
    if (!user) {
      user = new UserHistory();
      this.users.set(ctx.userId, user);
      this.global.users++;
    }
    this.expire(user, ctx.at);
    while (user.logins >= this.limits.perUserCap) this.global.remove(user.evictOldest()!.keys);
    const entry: HistoryEntry = { at: ctx.at, keys };
    if (ctx.latitude !== undefined && ctx.longitude !== undefined) {
      entry.latitude = ctx.latitude;
      entry.longitude = ctx.longitude;
    }
    user.add(entry);
    this.global.add(keys);
  }

  /** Forgets every sign-in older than the retention window. O(users). */
  prune(now: number): void {
    for (const [userId, user] of this.users) {
      this.expire(user, now);
      if (user.logins === 0) {
        this.users.delete(userId);
        this.global.users--;
      }
    }
  }

  private expire(user: UserHistory, now: number): void {
    const cutoff = now - this.limits.retentionMs;
    for (let oldest = user.oldest(); oldest && oldest.at < cutoff; oldest = user.oldest()) {
      this.global.remove(user.evictOldest()!.keys);
    }
  }
}
