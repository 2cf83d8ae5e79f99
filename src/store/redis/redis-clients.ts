import { Redis, type RedisOptions } from 'ioredis';

/**
 * Connections to the shared Redis. Both fail fast rather than queue while Redis is away
 * (enableOfflineQueue: false): a rate-limit check or an announcement must not wait for an outage to
 * end; the callers fall back (in-memory limits, short cache max age) and ioredis keeps reconnecting
 * in the background, so everything resumes by itself.
 */
export interface RedisClients {
  /** Commands: rate-limit counters, PUBLISH. */
  commands: Redis;
  /** A connection in subscriber mode (it can do nothing else). */
  subscriber: Redis;
  close(): Promise<void>;
}

const OPTIONS: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  connectTimeout: 2000,
  // Reconnect quickly at first, then every 2 s, for ever.
  retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
  // Subscriptions are renewed by the eviction bus itself on every 'ready', so it knows when they hold.
  autoResubscribe: false,
};

export function connectRedis(url: string, onError: (err: Error) => void): RedisClients {
  // A Redis that hangs (rather than refuses) must not hang a sign-in or a revocation either.
  const commands = new Redis(url, { ...OPTIONS, connectionName: 'twofold', commandTimeout: 1000 });
  const subscriber = new Redis(url, { ...OPTIONS, connectionName: 'twofold-evictions' });
  // Without a listener ioredis would print every connection error; they are reported once per outage by the caller.
  commands.on('error', onError);
  subscriber.on('error', onError);
  return {
    commands,
    subscriber,
    async close() {
      commands.disconnect();
      subscriber.disconnect();
    },
  };
}

/** Resolves when the client is ready or after `ms`, whichever comes first (start-up must not hang on Redis). */
export function readyWithin(client: Redis, ms: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), ms);
    const onReady = () => done(true);
    function done(ready: boolean) {
      clearTimeout(timer);
      client.off('ready', onReady);
      resolve(ready);
    }
    client.on('ready', onReady);
  });
}
