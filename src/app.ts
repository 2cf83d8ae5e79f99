import { withSessionCache } from './auth/cached-store.js';
import type { AuthDeps } from './auth/deps.js';
import { SessionCache } from './auth/session-cache.js';
import { createMemoryThrottles } from './auth/throttles.js';
import type { Config } from './config.js';
import { systemClock, type Clock } from './core/clock.js';
import { systemRandom, type RandomBytes } from './core/random.js';
import { loadOrCreateMasterKey } from './crypto/key-file.js';
import { createArgon2Hasher, type PasswordHasher } from './crypto/password-hasher.js';
import { deriveKey, SecretBox } from './crypto/secret-box.js';
import { openSqliteStore } from './store/sqlite/open.js';

export interface DepsOverrides {
  clock?: Clock;
  random?: RandomBytes;
  hasher?: PasswordHasher;
}

/** Assembles the use cases' dependencies from configuration: the one place the store and keys are opened. */
export async function createDeps(config: Config, overrides: DepsOverrides = {}): Promise<AuthDeps> {
  const masterKey = loadOrCreateMasterKey(config.dataDir, config.encryptionKey);
  const sqlite = await openSqliteStore(config.sqlitePath);
  const sessionCache = new SessionCache(config.sessionCache.maxEntries, sqlite.externalVersion);
  return {
    config,
    store: withSessionCache(sqlite.store, sessionCache),
    sessionCache,
    clock: overrides.clock ?? systemClock,
    random: overrides.random ?? systemRandom,
    hasher: overrides.hasher ?? createArgon2Hasher(),
    secretBox: new SecretBox(deriveKey(masterKey, 'totp-secrets')),
    recoveryPepper: deriveKey(masterKey, 'recovery-codes'),
    throttles: createMemoryThrottles(config.rateLimit),
  };
}
