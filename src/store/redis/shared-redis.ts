import type { EvictionBus } from '../../auth/eviction-bus.js';
import type { SessionCache } from '../../auth/session-cache.js';
import type { LimiterFactory } from '../../auth/throttles.js';
import { connectRedis, readyWithin } from './redis-clients.js';
import { redisEvictionBus } from './redis-eviction-bus.js';
import { redisLimiters } from './redis-limiters.js';

export interface SharedRedis {
  bus: EvictionBus;
  limiters: LimiterFactory;
  close(): Promise<void>;
}

interface Log {
  warn: (obj: object, msg: string) => void;
  info: (obj: object, msg: string) => void;
}

/**
 * What the nodes share through Redis: rate-limit counters and the revocation broadcast. Start-up
 * waits for Redis at most `waitMs`: a node whose Redis is down starts anyway, degraded (local limits,
 * short cache max age), and picks Redis up when it comes.
 */
export async function connectSharedRedis(url: string, cache: SessionCache, log: Log, waitMs = 2000): Promise<SharedRedis> {
  let down = false;
  const clients = connectRedis(url, (err) => {
    if (down) return;
    down = true;
    log.warn(
      { error: err.message },
      'Redis unavailable: rate limits count per node, cached sessions are trusted for max_age_without_broadcast',
    );
  });
  clients.subscriber.on('ready', () => {
    if (!down) return;
    down = false;
    log.info({}, 'Redis is back: shared rate limits and revocation broadcast resume');
  });
  const bus = redisEvictionBus(clients.commands, clients.subscriber, cache, {
    warn: (msg, detail) => log.warn(detail ?? {}, msg),
  });
  await Promise.all([readyWithin(clients.commands, waitMs), readyWithin(clients.subscriber, waitMs)]);
  // The first SUBSCRIBE is confirmed just after 'ready'; give it the same bound.
  const deadline = Date.now() + waitMs;
  while (!bus.listening && clients.subscriber.status === 'ready' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  return {
    bus,
    limiters: redisLimiters(clients.commands),
    async close() {
      await bus.close();
      await clients.close();
    },
  };
}
