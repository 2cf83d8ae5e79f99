import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Eviction, EvictionBus } from '../../auth/eviction-bus.js';
import type { SessionCache } from '../../auth/session-cache.js';

const CHANNEL = 'twofold:evictions';
/** Each node publishes a heartbeat this often and must hear its own back. */
const HEARTBEAT_MS = 1000;
/** Without its own heartbeat for this long, a node stops counting on the broadcast. */
const HEARTBEAT_LOST_MS = 3 * HEARTBEAT_MS;

type Message = { from: string; eviction: Eviction } | { from: string; heartbeat: number };

const isEviction = (v: unknown): v is Eviction => {
  const e = v as Eviction | null;
  return typeof e === 'object' && e !== null && (e.kind === 'session' || e.kind === 'user') && typeof e.id === 'string';
};

/**
 * Revocation broadcast over Redis pub/sub. Pub/sub delivers only to connected subscribers, so a
 * node counts as listening only while (1) its SUBSCRIBE is confirmed on a live connection and (2)
 * the heartbeat it publishes every second comes back to it: a half-open connection, or a command
 * connection that cannot publish, is noticed within 3 s without waiting for TCP to give up. Each
 * time it (re)subscribes it empties its cache, since announcements made meanwhile are lost. While
 * not listening, the cache trusts an entry for session_cache.max_age_without_broadcast only.
 */
export function redisEvictionBus(
  commands: Redis,
  subscriber: Redis,
  cache: SessionCache,
  log: { warn: (msg: string, detail?: Record<string, unknown>) => void },
  now: () => number = () => performance.now(),
): EvictionBus {
  const node = randomUUID();
  let subscribed = false;
  let heardAt = -Infinity;
  let closed = false;

  const stopListening = () => {
    subscribed = false;
  };
  const subscribe = async () => {
    try {
      await subscriber.subscribe(CHANNEL);
      if (closed || subscriber.status !== 'ready') return;
      cache.clear();
      heardAt = now();
      subscribed = true;
    } catch (err) {
      log.warn('revocation broadcast: subscribe failed', { error: (err as Error).message });
    }
  };
  subscriber.on('ready', () => void subscribe());
  subscriber.on('close', stopListening);
  subscriber.on('end', stopListening);
  subscriber.on('reconnecting', stopListening);
  subscriber.on('message', (channel: string, text: string) => {
    if (channel !== CHANNEL) return;
    let message: Message;
    try {
      message = JSON.parse(text) as Message;
    } catch {
      return;
    }
    if ('heartbeat' in message) {
      if (message.from === node) heardAt = now();
      return;
    }
    // The announcing node has already evicted locally.
    if (message.from === node || !isEviction(message.eviction)) return;
    if (message.eviction.kind === 'session') cache.evictSession(message.eviction.id);
    else cache.evictUser(message.eviction.id);
  });
  if (subscriber.status === 'ready') void subscribe();

  const heartbeat = setInterval(() => {
    if (commands.status !== 'ready') return;
    commands.publish(CHANNEL, JSON.stringify({ from: node, heartbeat: Date.now() } satisfies Message)).catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();

  return {
    async announce(eviction) {
      try {
        await commands.publish(CHANNEL, JSON.stringify({ from: node, eviction } satisfies Message));
      } catch (err) {
        log.warn('revocation broadcast: publish failed; other nodes drop it within session_cache.max_age', {
          error: (err as Error).message,
        });
      }
    },
    get listening() {
      return subscribed && now() - heardAt < HEARTBEAT_LOST_MS;
    },
    async close() {
      closed = true;
      subscribed = false;
      clearInterval(heartbeat);
    },
  };
}
