import { describe, expect, it } from 'vitest';
import { SessionCache, type CachedAuthentication } from '../../src/auth/session-cache.js';
import type { SessionId, TokenHash, UserId } from '../../src/core/ids.js';
import type { Session } from '../../src/core/session/session.js';
import type { User } from '../../src/store/store.js';

const entry = (sessionId: string, userId: string): CachedAuthentication => ({
  session: { id: sessionId as SessionId, userId: userId as UserId, lastSeenAt: 0, idleExpiresAt: 1 } as Session,
  user: { id: userId as UserId } as User,
});
const hash = (name: string) => name as TokenHash;

/** As in authenticate(): a lookup comes first, which records the store's data_version. */
function newCache(maxEntries: number, version: () => number = () => 0): SessionCache {
  const cache = new SessionCache(maxEntries, version);
  cache.get(hash('warm-up'));
  return cache;
}

describe('SessionCache: validated sessions in memory, correct because every revocation evicts', () => {
  it('returns what was set', () => {
    const cache = newCache(10);
    const a = entry('ses_a', 'usr_1');
    cache.set(hash('ha'), a, cache.snapshot());
    expect(cache.get(hash('ha'))).toBe(a);
    expect(cache.get(hash('other'))).toBeUndefined();
  });

  it('evicts one session, or every session of a user', () => {
    const cache = newCache(10);
    cache.set(hash('ha'), entry('ses_a', 'usr_1'), cache.snapshot());
    cache.set(hash('hb'), entry('ses_b', 'usr_1'), cache.snapshot());
    cache.set(hash('hc'), entry('ses_c', 'usr_2'), cache.snapshot());
    cache.evictSession('ses_a' as SessionId);
    expect(cache.get(hash('ha'))).toBeUndefined();
    expect(cache.get(hash('hb'))).toBeDefined();
    cache.evictUser('usr_1' as UserId);
    expect(cache.get(hash('hb'))).toBeUndefined();
    expect(cache.get(hash('hc'))).toBeDefined();
    expect(cache.size).toBe(1);
  });

  it('does not cache a lookup that raced with an eviction', () => {
    const cache = newCache(10);
    const snapshot = cache.snapshot(); // lookup starts reading the store...
    cache.evictUser('usr_1' as UserId); // ...a revocation lands meanwhile...
    cache.set(hash('ha'), entry('ses_a', 'usr_1'), snapshot); // ...so what it read is stale.
    expect(cache.get(hash('ha'))).toBeUndefined();
  });

  it('drops everything when another process wrote (SQLite data_version moved)', () => {
    let version = 1;
    const cache = newCache(10, () => version);
    cache.set(hash('ha'), entry('ses_a', 'usr_1'), cache.snapshot());
    expect(cache.get(hash('ha'))).toBeDefined();
    version = 2;
    expect(cache.get(hash('ha'))).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('keeps a touched session in step', () => {
    const cache = newCache(10);
    cache.set(hash('ha'), entry('ses_a', 'usr_1'), cache.snapshot());
    cache.touched('ses_a' as SessionId, 500, 900);
    expect(cache.get(hash('ha'))!.session).toMatchObject({ lastSeenAt: 500, idleExpiresAt: 900 });
  });

  it('holds at most max_entries, dropping the oldest; 0 disables it', () => {
    const cache = newCache(2);
    for (const name of ['a', 'b', 'c']) cache.set(hash(`h${name}`), entry(`ses_${name}`, 'usr_1'), cache.snapshot());
    expect(cache.size).toBe(2);
    expect(cache.get(hash('ha'))).toBeUndefined();
    expect(cache.get(hash('hc'))).toBeDefined();

    const off = newCache(0);
    off.set(hash('ha'), entry('ses_a', 'usr_1'), off.snapshot());
    expect(off.get(hash('ha'))).toBeUndefined();
  });
});
