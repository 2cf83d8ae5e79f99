import type { Store } from '../store/store.js';
import type { EvictionBus } from './eviction-bus.js';
import type { SessionCache } from './session-cache.js';

/**
 * Wraps a store so that every write that can end or change a session evicts it from the cache:
 * revocation is then immediate however it happens (API, pages, CLI in-process, admin).
 * With a bus (several nodes on one database) the eviction is also announced to every other node,
 * after the write: a node that re-reads the session then already sees it revoked.
 */
export function withSessionCache(store: Store, cache: SessionCache, bus?: EvictionBus): Store {
  const { sessions, users, factors } = store;
  const announced = async <T>(write: Promise<T>, eviction: Parameters<EvictionBus['announce']>[0]): Promise<T> => {
    const result = await write;
    await bus?.announce(eviction);
    return result;
  };
  return {
    ...store,
    sessions: {
      ...sessions,
      async revoke(id, now, reason) {
        cache.evictSession(id);
        return announced(sessions.revoke(id, now, reason), { kind: 'session', id });
      },
      async revokeAllForUser(userId, now, reason, exceptId) {
        cache.evictUser(userId);
        return announced(sessions.revokeAllForUser(userId, now, reason, exceptId), { kind: 'user', id: userId });
      },
      touch(id, lastSeenAt, idleExpiresAt) {
        const written = sessions.touch(id, lastSeenAt, idleExpiresAt);
        if (written !== undefined) return written.then(() => cache.touched(id, lastSeenAt, idleExpiresAt));
        // Only queued: the cache shows the new times at once, as this process's reads do (batched-touches.ts).
        cache.touched(id, lastSeenAt, idleExpiresAt);
        return undefined;
      },
    },
    users: {
      ...users,
      async setDisabled(id, disabled, now) {
        cache.evictUser(id);
        return announced(users.setDisabled(id, disabled, now), { kind: 'user', id });
      },
      async setPasswordHash(id, hash, now) {
        cache.evictUser(id);
        return announced(users.setPasswordHash(id, hash, now), { kind: 'user', id });
      },
    },
    factors: {
      ...factors,
      async removeAll(userId) {
        cache.evictUser(userId);
        return announced(factors.removeAll(userId), { kind: 'user', id: userId });
      },
    },
  };
}
