import { withSessionCache } from './auth/cached-store.js';
import { RiskService } from './auth/risk/risk-service.js';
import { withSecurityMail } from './auth/notifications/security-mail.js';
import type { AuthDeps } from './auth/deps.js';
import { KeyRing } from './auth/key-ring.js';
import { SessionCache } from './auth/session-cache.js';
import { createMemoryThrottles, createThrottles } from './auth/throttles.js';
import type { Config } from './config.js';
import { systemClock, type Clock } from './core/clock.js';
import { systemRandom, type RandomBytes } from './core/random.js';
import { loadOrCreateMasterKey } from './crypto/key-file.js';
import { createArgon2Hasher, type PasswordHasher } from './crypto/password-hasher.js';
import { deriveKey, SecretBox } from './crypto/secret-box.js';
import { withEventMetrics } from './metrics/event-metrics.js';
import { Metrics } from './metrics/metrics.js';
import { pino } from 'pino';
import type { EvictionBus } from './auth/eviction-bus.js';
import { openStore } from './store/open-store.js';
import { withWebhookOutbox } from './webhooks/outbox.js';

export interface DepsOverrides {
  clock?: Clock;
  random?: RandomBytes;
  hasher?: PasswordHasher;
}

/** Assembles the use cases' dependencies from configuration: the one place the store and keys are opened. */
export async function createDeps(config: Config, overrides: DepsOverrides = {}): Promise<AuthDeps> {
  const masterKey = loadOrCreateMasterKey(config.dataDir, config.encryptionKey);
  // On stderr: the CLI's stdout is its output (tables, JSON) and must stay clean if Redis or the database complains.
  const log = pino({ level: config.logLevel, name: 'twofold' }, pino.destination(2));
  if (config.store.kind === 'postgres' && config.encryptionKey === undefined) {
    log.warn(
      { dataDir: config.dataDir },
      'store is PostgreSQL but encryption_key is not set: every node must share this key file, or set encryption_key',
    );
  }
  const opened = await openStore(config, log);
  // A shared database (PostgreSQL) cannot tell this node about other nodes' writes: cached sessions
  // are trusted for max_age while revocations are broadcast to us (Redis), max_age_without_broadcast otherwise.
  let bus: EvictionBus | undefined;
  const { maxAgeMs, maxAgeWithoutBroadcastMs } = config.sessionCache;
  const sessionCache = new SessionCache(
    config.sessionCache.maxEntries,
    opened.externalChanges,
    opened.externalChanges ? {} : { maxAgeMs: () => (bus?.listening ? maxAgeMs : maxAgeWithoutBroadcastMs) },
  );
  // Loaded only when configured: a single node on SQLite never pays for the Redis client's memory.
  const redis = config.redisUrl
    ? await (await import('./store/redis/shared-redis.js')).connectSharedRedis(config.redisUrl, sessionCache, log)
    : null;
  bus = redis?.bus;
  // Every event appended also queues its webhook deliveries, in the same transaction (src/webhooks/outbox.ts).
  const outboxed = withWebhookOutbox(opened.store, overrides.random ?? systemRandom);
  const store = !redis
    ? outboxed
    : {
        ...outboxed,
        async close() {
          await redis.close();
          await opened.store.close();
        },
      };
  const metrics = new Metrics({
    activeSessions: () => store.admin.countActiveSessions((overrides.clock ?? systemClock).now()),
    // RiskService.start below always runs: every accepted password gets a risk.decision with its outcome.
    passwordStepsJudgedByRisk: true,
  });
  const deps: AuthDeps = {
    config,
    store: withEventMetrics(withSessionCache(store, sessionCache, bus), metrics),
    metrics,
    sessionCache,
    clock: overrides.clock ?? systemClock,
    random: overrides.random ?? systemRandom,
    hasher: overrides.hasher ?? createArgon2Hasher(),
    secretBox: new SecretBox(deriveKey(masterKey, 'totp-secrets')),
    recoveryPepper: deriveKey(masterKey, 'recovery-codes'),
    keyRing: new KeyRing(
      store.signingKeys,
      new SecretBox(deriveKey(masterKey, 'signing-keys')),
      overrides.clock ?? systemClock,
      config.tokens.accessTtlMs,
    ),
    throttles: redis ? createThrottles(config.rateLimit, redis.limiters) : createMemoryThrottles(config.rateLimit),
  };
  deps.risk = await RiskService.start(config, deps.clock, deps.store, (event) => deps.store.events.append(event));
  deps.store = withSecurityMail(deps.store, deps.risk);
  return deps;
}
