import { describe, expect, it } from 'vitest';
import { SessionCache, StringPool, type CachedAuthentication } from '../../src/auth/session-cache.js';
import type { SessionId, TokenHash, UserId } from '../../src/core/ids.js';
import type { ExternalChanges } from '../../src/store/store.js';
import { liveSession, storedUser } from '../support/records.js';

const SIGNED_IN = 1_700_000_000_000;
const session = (id: string, userId: string) => liveSession(id, userId, SIGNED_IN);
const user = (id: string) => storedUser(id, SIGNED_IN);
const entry = (sessionId: string, userId: string): CachedAuthentication => ({ session: session(sessionId, userId), user: user(userId) });
const hash = (name: string) => name as TokenHash;

/** As in authenticate(): a lookup comes first. */
function newCache(maxEntries: number, changes: () => ExternalChanges = () => null): SessionCache {
  const cache = new SessionCache(maxEntries, changes);
  cache.get(hash('warm-up'));
  return cache;
}

describe('SessionCache: validated sessions in memory, correct because every revocation evicts', () => {
  it('returns what was set, as a new object each time, so a caller changing it changes nothing cached', () => {
    const cache = newCache(10);
    const a = entry('ses_a', 'usr_1');
    cache.set(hash('ha'), a, cache.snapshot());
    a.session.ip = '198.51.100.1';
    const got = cache.get(hash('ha'))!;
    expect(got).toEqual(entry('ses_a', 'usr_1'));
    got.session.amr.push({ method: 'hwk', at: 0 });
    got.session.lastSeenAt = 0;
    expect(cache.get(hash('ha'))).toEqual(entry('ses_a', 'usr_1'));
    expect(cache.get(hash('ha'))!.session).not.toBe(cache.get(hash('ha'))!.session);
    expect(cache.get(hash('other'))).toBeUndefined();
  });

  it('holds a user once for all its sessions, replaced by a newer read', () => {
    const cache = newCache(10);
    cache.set(hash('ha'), entry('ses_a', 'usr_1'), cache.snapshot());
    cache.set(hash('hb'), entry('ses_b', 'usr_1'), cache.snapshot());
    expect(cache.get(hash('ha'))!.user).toBe(cache.get(hash('hb'))!.user);
    const renamed = entry('ses_c', 'usr_1');
    renamed.user.displayName = 'New name';
    cache.set(hash('hc'), renamed, cache.snapshot());
    expect(cache.get(hash('ha'))!.user.displayName).toBe('New name');
  });

  it('keeps one entry per session and per key', () => {
    const cache = newCache(10);
    cache.set(hash('ha'), entry('ses_a', 'usr_1'), cache.snapshot());
    cache.set(hash('ha-by-id'), entry('ses_a', 'usr_1'), cache.snapshot());
    expect(cache.get(hash('ha'))).toBeUndefined();
    expect(cache.size).toBe(1);
    cache.set(hash('ha-by-id'), entry('ses_b', 'usr_1'), cache.snapshot());
    expect(cache.get(hash('ha-by-id'))!.session.id).toBe('ses_b');
    expect(cache.size).toBe(1);
    cache.evictSession('ses_a' as SessionId);
    expect(cache.size).toBe(1);
  });

  it('does not cache a session whose user is another', () => {
    const cache = newCache(10);
    cache.set(hash('ha'), { session: session('ses_a', 'usr_1'), user: user('usr_2') }, cache.snapshot());
    expect(cache.size).toBe(0);
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

  it('evicts the sessions and users another process changed, and keeps the rest', () => {
    let changes: ExternalChanges = null;
    const cache = newCache(10, () => {
      const now = changes;
      changes = null;
      return now;
    });
    cache.set(hash('ha'), entry('ses_a', 'usr_1'), cache.snapshot());
    cache.set(hash('hb'), entry('ses_b', 'usr_2'), cache.snapshot());
    cache.set(hash('hc'), entry('ses_c', 'usr_3'), cache.snapshot());
    cache.set(hash('hd'), entry('ses_d', 'usr_3'), cache.snapshot());
    changes = { sessions: ['ses_a'], users: ['usr_3'] };
    expect(cache.get(hash('hb'))).toBeDefined();
    expect(cache.get(hash('ha'))).toBeUndefined();
    expect(cache.get(hash('hc'))).toBeUndefined();
    expect(cache.get(hash('hd'))).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it('drops everything when the changes are unknown, and a lookup that raced with that is not cached', () => {
    let changes: ExternalChanges = null;
    const cache = newCache(10, () => changes);
    cache.set(hash('ha'), entry('ses_a', 'usr_1'), cache.snapshot());
    const snapshot = cache.snapshot();
    changes = 'unknown';
    expect(cache.get(hash('hb'))).toBeUndefined();
    changes = null;
    expect(cache.size).toBe(0);
    cache.set(hash('ha'), entry('ses_a', 'usr_1'), snapshot);
    expect(cache.get(hash('ha'))).toBeUndefined();
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
    expect(cache.get(hash('hb'))!.session.id).toBe('ses_b');
    expect(cache.get(hash('hc'))!.session.id).toBe('ses_c');
    cache.evictSession('ses_b' as SessionId);
    cache.set(hash('hd'), entry('ses_d', 'usr_2'), cache.snapshot());
    expect(cache.get(hash('hc'))!.session.id).toBe('ses_c');
    expect(cache.get(hash('hd'))!.session.id).toBe('ses_d');

    const off = newCache(0);
    off.set(hash('ha'), entry('ses_a', 'usr_1'), off.snapshot());
    expect(off.get(hash('ha'))).toBeUndefined();
  });

  it('holds repeated strings once without changing what a cached session reads', () => {
    const cache = newCache(10);
    const browser = ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0)', 'Gecko/20100101 Firefox/128.0'];
    const made = (id: string): CachedAuthentication => {
      const e = entry(id, 'usr_1');
      Object.assign(e.session, { kind: 'full', ip: ['203.0.113', '7'].join('.'), userAgent: browser.join(' ') });
      return e;
    };
    const a = made('ses_a');
    const b = made('ses_b');
    cache.set(hash('ha'), a, cache.snapshot());
    cache.set(hash('hb'), b, cache.snapshot());
    for (const got of [cache.get(hash('ha'))!, cache.get(hash('hb'))!]) {
      expect(got.session).toMatchObject({ kind: 'full', ip: '203.0.113.7', userAgent: browser.join(' '), userId: 'usr_1' });
    }
    expect(cache.get(hash('ha'))!.session.id).toBe('ses_a');
  });

  it('a string pool gives back an equal string, and starts over past its bound', () => {
    const pool = new StringPool(2);
    expect(pool.intern('a')).toBe('a');
    expect(pool.intern('b')).toBe('b');
    expect(pool.intern('c')).toBe('c');
    expect(pool.intern(['a', 'b'].join(''))).toBe('ab');
  });
});
