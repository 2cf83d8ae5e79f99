import type { Config } from '../config.js';
import type { DeviceCookie } from '../context/device-cookie.js';
import type { Clock } from '../core/clock.js';
import type { RandomBytes } from '../core/random.js';
import type { SessionLifetimes } from '../core/session/session.js';
import type { PasswordHasher } from '../crypto/password-hasher.js';
import type { SecretBox } from '../crypto/secret-box.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Store } from '../store/store.js';
import type { KeyRing } from './key-ring.js';
import type { RiskService } from './risk/risk-service.js';
import type { SessionCache } from './session-cache.js';
import type { Throttles } from './throttles.js';

/** What every use case works with: the store, time, randomness and the crypto it needs. */
export interface AuthDeps {
  config: Config;
  store: Store;
  clock: Clock;
  random: RandomBytes;
  hasher: PasswordHasher;
  /** Seals TOTP secrets at rest. */
  secretBox: SecretBox;
  /** HMAC key for recovery-code hashes. */
  recoveryPepper: Buffer;
  throttles: Throttles;
  /** Validated sessions in memory; the store given here already evicts from it on every revocation. */
  sessionCache: SessionCache;
  /** Access-token signing keys (docs/tokens.md). */
  keyRing: KeyRing;
  /** Prometheus counters; the store given here already counts every audit event appended. */
  metrics?: Metrics;
  /** Adaptive authentication: the risk engine, geo databases and security email (src/auth/risk). */
  risk?: RiskService;
}

/** Where a request came from, as recorded on sessions and events. */
export interface RequestContext {
  ip: string;
  userAgent: string;
  /** The browser's device cookie, on sign-in requests (src/context/device-cookie.ts). */
  device?: DeviceCookie;
  /** A step-up's new session stays bound to the device its old one was (auth/session-continuity.ts). */
  boundDeviceHash?: string;
}

export const lifetimesOf = (config: Config): SessionLifetimes => config.session;
