import type { Store } from '../store/store.js';
import type { SessionCache } from './session-cache.js';

/**
 * Wraps a store so that every write that can end or change a session evicts it from the cache:
 * revocation is then immediate however it happens (API, pages, CLI in-process, admin).
 */
export function withSessionCache(store: Store, cache: SessionCache): Store {
  const { sessions, users, factors } = store;
  return {
    ...store,
    sessions: {
      ...sessions,
      async revoke(id, now, reason) {
        cache.evictSession(id);
        return sessions.revoke(id, now, reason);
      },
      async revokeAllForUser(userId, now, reason, exceptId) {
        cache.evictUser(userId);
        return sessions.revokeAllForUser(userId, now, reason, exceptId);
      },
      async touch(id, lastSeenAt, idleExpiresAt) {
        await sessions.touch(id, lastSeenAt, idleExpiresAt);
        cache.touched(id, lastSeenAt, idleExpiresAt);
      },
    },
    users: {
      ...users,
      async setDisabled(id, disabled, now) {
        cache.evictUser(id);
        return users.setDisabled(id, disabled, now);
      },
      async setPasswordHash(id, hash, now) {
        cache.evictUser(id);
        return users.setPasswordHash(id, hash, now);
      },
    },
    factors: {
      ...factors,
      async removeAll(userId) {
        cache.evictUser(userId);
        return factors.removeAll(userId);
      },
    },
  };
}
