import { describe, expect, it } from 'vitest';
import { Level, familyOf, featureKeys } from '../../../src/core/risk/context.js';
import { LoginHistory } from '../../../src/core/risk/history.js';
import { DAY, bob, ctx } from './fixtures.js';

const add = (h: LoginHistory, c = ctx()) => h.add(c, featureKeys(c));

describe('login history', () => {
  it('counts per user and globally, incrementally', () => {
    const h = new LoginHistory();
    add(h);
    add(h, ctx({ at: ctx().at + 1, ip: '1.1.1.2' }));
    add(h, bob());
    expect(h.global.logins).toBe(3);
    expect(h.global.users).toBe(2);
    expect(h.global.count('as:100')).toBe(2);
    expect(h.global.distinct(Level.ip)).toBe(3);
    expect(h.user('alice').logins).toBe(2);
    expect(h.user('alice').stat('ip:1.1.1.2')?.count).toBe(1);
    expect(h.user('alice').distinct(Level.ip)).toBe(2);
    expect(h.user('nobody').logins).toBe(0);
  });

  it('forgets sign-ins older than the retention window, in the user and the global counts', () => {
    const h = new LoginHistory({ retentionMs: 10 * DAY, perUserCap: 100 });
    add(h, ctx({ ip: '9.9.9.9' }));
    add(h, ctx({ at: ctx().at + 8 * DAY }));
    add(h, ctx({ at: ctx().at + 12 * DAY }));
    expect(h.user('alice').logins).toBe(2);
    expect(h.user('alice').stat('ip:9.9.9.9')).toBeUndefined();
    expect(h.global.count('ip:9.9.9.9')).toBe(0);
    expect(h.global.distinct(Level.ip)).toBe(1);
    h.prune(ctx().at + 30 * DAY);
    expect(h.user('alice').logins).toBe(0);
    expect(h.global.logins).toBe(0);
    expect(h.global.users).toBe(0);
  });

  it('keeps at most the per-user cap, dropping the oldest', () => {
    const h = new LoginHistory({ retentionMs: 365 * DAY, perUserCap: 3 });
    for (let i = 0; i < 5; i++) add(h, ctx({ at: ctx().at + i, ip: `10.0.0.${i}` }));
    expect(h.user('alice').logins).toBe(3);
    expect(h.user('alice').stat('ip:10.0.0.0')).toBeUndefined();
    expect(h.user('alice').stat('ip:10.0.0.4')?.count).toBe(1);
    expect(h.global.logins).toBe(3);
  });

  it('derives families by dropping versions', () => {
    expect(familyOf('Chrome Mobile 46.0.2490')).toBe('Chrome Mobile');
    expect(familyOf('Mac OS X 10.15')).toBe('Mac OS X');
    expect(familyOf('Windows 10')).toBe('Windows');
    expect(familyOf('Firefox')).toBe('Firefox');
  });
});
