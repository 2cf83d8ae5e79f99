import { describe, expect, it } from 'vitest';
import { SessionTable } from '../../src/auth/session-table.js';
import type { SessionId, UserId } from '../../src/core/ids.js';
import type { AuthMethod, Session } from '../../src/core/session/session.js';

const base: Session = {
  id: 'ses_a' as SessionId,
  userId: 'usr_1' as UserId,
  kind: 'full',
  aal: 2,
  amr: [
    { method: 'pwd', at: 1_700_000_000_000 },
    { method: 'otp', at: 1_700_000_001_000.5 },
  ],
  authTime: 1_700_000_001_000,
  createdAt: 1_700_000_000_000,
  lastSeenAt: 1_700_000_002_000,
  idleExpiresAt: 1_700_003_600_000,
  expiresAt: 1_700_086_400_000,
  ip: '2001:db8::1',
  userAgent: 'Mozilla/5.0',
  revokedAt: null,
  revokedReason: null,
};

/** Puts a session in a new slot and reads it back. */
function roundTrip(table: SessionTable, session: Session): Session {
  const slot = table.allocate()!;
  table.put(slot, session.id, session, 0);
  return table.read(slot);
}

describe('SessionTable: cached sessions stored by column', () => {
  it('gives back a session equal to the one put, whatever it holds', () => {
    const table = new SessionTable(100);
    const variants: Session[] = [
      base,
      { ...base, kind: 'enrollment', aal: 1, amr: [{ method: 'pwd', at: 5 }] },
      { ...base, amr: [] },
      {
        ...base,
        amr: [
          { method: 'pwd', at: 1 },
          { method: 'hwk', at: 2 },
          { method: 'rc', at: 3 },
        ],
      },
      // More factor uses than the columns hold, and a method the table does not know.
      { ...base, amr: (['pwd', 'otp', 'otp', 'hwk', 'rc'] as AuthMethod[]).map((method, at) => ({ method, at })) },
      { ...base, amr: [{ method: 'sms' as AuthMethod, at: 1 }] },
      { ...base, kind: 'machine' as Session['kind'] },
      { ...base, revokedAt: 1_700_000_003_000, revokedReason: 'logout' },
      { ...base, revokedAt: 0, revokedReason: '' },
      { ...base, idleTimeoutMs: 0 },
      { ...base, idleTimeoutMs: 900_000, deviceHash: 'dev_hash' },
      { ...base, origin: { country: 'DE', asn: 'AS3320', riskBand: 'low', riskScore: 0.12 } },
      { ...base, origin: { country: null, asn: null, riskBand: null, riskScore: null } },
      { ...base, authTime: -0, createdAt: Number.MAX_SAFE_INTEGER, lastSeenAt: 1e-3 },
    ];
    for (const session of variants) expect(roundTrip(table, session)).toStrictEqual(session);
  });

  it('copies what it is given: later changes to the session or to what was read do not reach it', () => {
    const table = new SessionTable(10);
    const session = structuredClone({ ...base, origin: { country: 'DE', asn: null, riskBand: null, riskScore: null } });
    const slot = table.allocate()!;
    table.put(slot, session.id, session, 0);
    session.amr[0]!.at = 0;
    session.origin!.country = 'FR';
    const read = table.read(slot);
    read.amr.pop();
    read.origin!.asn = 'AS1';
    expect(table.read(slot)).toStrictEqual({ ...base, origin: { country: 'DE', asn: null, riskBand: null, riskScore: null } });
  });

  it('moves the sliding-expiry times of one slot', () => {
    const table = new SessionTable(10);
    const a = table.allocate()!;
    const b = table.allocate()!;
    table.put(a, 'ka', base, 0);
    table.put(b, 'kb', { ...base, id: 'ses_b' as SessionId, userId: 'usr_2' as UserId }, 0);
    table.setTimes(a, 10, 20);
    expect(table.read(a)).toMatchObject({ lastSeenAt: 10, idleExpiresAt: 20 });
    expect(table.read(b)).toMatchObject({ lastSeenAt: base.lastSeenAt, idleExpiresAt: base.idleExpiresAt });
    expect([table.key(a), table.key(b)]).toEqual(['ka', 'kb']);
    expect(table.slotsOf('usr_2' as UserId)).toEqual([b]);
    table.release(b);
    expect(table.key(b)).toBeUndefined();
    expect(table.slotsOf('usr_2' as UserId)).toEqual([]);
  });

  it('fills block after block, reuses released slots, and stops at its bound', () => {
    const table = new SessionTable(3000);
    const slots: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const slot = table.allocate()!;
      table.put(slot, `key_${i}`, { ...base, id: `ses_${i}` as SessionId, userId: `usr_${i % 7}` as UserId, lastSeenAt: i }, i);
      slots.push(slot);
    }
    expect(new Set(slots).size).toBe(3000);
    expect(table.allocate()).toBeUndefined();
    for (const i of [0, 2047, 2048, 2999]) {
      expect(table.read(slots[i]!)).toMatchObject({ id: `ses_${i}`, userId: `usr_${i % 7}`, lastSeenAt: i });
      expect(table.key(slots[i]!)).toBe(`key_${i}`);
      expect(table.cachedAt(slots[i]!)).toBe(i);
    }
    expect(table.slotsOf('usr_3' as UserId)).toEqual(slots.filter((_, i) => i % 7 === 3));
    table.release(slots[5]!);
    expect(table.allocate()).toBe(slots[5]);
    table.clear();
    expect(table.allocate()).toBe(0);
  });

  it('grows past the slots it allocates at once (131,072) without losing a number', () => {
    const table = new SessionTable(200_000);
    let last = 0;
    for (let i = 0; i < 140_000; i++) {
      last = table.allocate()!;
      table.put(last, `key_${i}`, base, i);
    }
    expect(last).toBe(139_999);
    expect(table.cachedAt(0)).toBe(0);
    expect(table.cachedAt(131_071)).toBe(131_071);
    expect(table.read(139_999)).toStrictEqual(base);
  });
});
