/**
 * What the risk engine knows about one sign-in attempt. The integration layer builds it from the
 * request (socket or trusted X-Forwarded-For, mmdb lookups, ua-parser-js, device cookie); replay
 * builds it from a CSV row. Nothing here does I/O: `at` is the injected time of the attempt.
 */
export interface LoginContext {
  /** Epoch milliseconds of the attempt; the engine's only clock. */
  at: number;
  userId: string;
  ip: string;
  /** Autonomous system number as text ("29695"), '' when unknown. */
  asn: string;
  /** ISO 3166 country code, '' or '-' when unknown. */
  country: string;
  region: string;
  city: string;
  /** Coordinates of the IP's location, when a geo database gives them. */
  latitude?: number;
  longitude?: number;
  userAgent: string;
  /** "Chrome 85.0.4183", as ua-parser-js or the RBA data set's column gives it. */
  browser: string;
  /** "Android 10", "Windows 10". */
  os: string;
  /** "desktop", "mobile", "tablet", … */
  deviceType: string;
  /** Hash of the long-lived device cookie, absent when the browser sent none. */
  deviceId?: string;
}

/**
 * The feature levels the history counts, one slot each. IP → ASN → country and UA → browser →
 * OS → device type are Freeman et al.'s hierarchies; the family levels (browser or OS without
 * version), hour of day and device cookie are twofold's additions.
 */
export const Level = {
  ip: 0,
  asn: 1,
  country: 2,
  ua: 3,
  browser: 4,
  browserFamily: 5,
  os: 6,
  osFamily: 7,
  deviceType: 8,
  hour: 9,
  hourBlock: 10,
  device: 11,
} as const;
export type LevelIndex = (typeof Level)[keyof typeof Level];
export const LEVEL_COUNT = 12;
const PREFIX = ['ip:', 'as:', 'cc:', 'ua:', 'bv:', 'bf:', 'ov:', 'of:', 'dt:', 'hr:', 'hb:', 'dv:'] as const;

/** One value per level, prefixed so the levels share a map; undefined where the value is missing. */
export type FeatureKeys = Array<string | undefined>;

const families = new Map<string, string>();

/** "Chrome Mobile 46.0.2490" → "Chrome Mobile": drop trailing tokens that start with a digit. */
export function familyOf(nameAndVersion: string): string {
  let family = families.get(nameAndVersion);
  if (family === undefined) {
    // A bounded memo: browser and OS names repeat endlessly, so this saves a split per sign-in.
    if (families.size >= 10_000) families.clear();
    families.set(nameAndVersion, (family = computeFamily(nameAndVersion)));
  }
  return family;
}

function computeFamily(nameAndVersion: string): string {
  const parts = nameAndVersion.trim().split(/\s+/);
  while (parts.length > 1 && /^\d/.test(parts[parts.length - 1]!)) parts.pop();
  return parts.join(' ');
}

/** Hour of day in UTC; users' habits are learnt per user, so a time zone is not needed. */
export const hourOf = (at: number): number => Math.floor(at / 3_600_000) % 24;

/**
 * Interned keys: the same value gives the same key string object, so the many map lookups of a
 * sign-in hash it once and compare by identity. Bounded per level; a full cache starts over.
 */
const keyCache = PREFIX.map(() => new Map<string, string>());
const KEY_CACHE_LIMIT = 200_000;

function keyOf(level: number, value: string): string {
  const cache = keyCache[level]!;
  let key = cache.get(value);
  if (key === undefined) {
    if (cache.size >= KEY_CACHE_LIMIT) cache.clear();
    cache.set(value, (key = PREFIX[level]! + value));
  }
  return key;
}

/** The history key of a device cookie's hash: whether a user has signed in from that browser (src/auth/known-device.ts). */
export const deviceFeatureKey = (deviceId: string): string => keyOf(Level.device, deviceId);

export function featureKeys(ctx: LoginContext): FeatureKeys {
  const hour = hourOf(ctx.at);
  return [
    keyOf(0, ctx.ip),
    keyOf(1, ctx.asn),
    keyOf(2, ctx.country),
    keyOf(3, ctx.userAgent),
    keyOf(4, ctx.browser),
    keyOf(5, familyOf(ctx.browser)),
    keyOf(6, ctx.os),
    keyOf(7, familyOf(ctx.os)),
    keyOf(8, ctx.deviceType),
    HOUR_KEYS[hour]!,
    HOUR_BLOCK_KEYS[Math.floor(hour / 4)]!,
    ctx.deviceId ? keyOf(11, ctx.deviceId) : undefined,
  ];
}

const HOUR_KEYS = Array.from({ length: 24 }, (_, h) => PREFIX[9] + h);
const HOUR_BLOCK_KEYS = Array.from({ length: 6 }, (_, b) => PREFIX[10] + b);
