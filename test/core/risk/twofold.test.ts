import { describe, expect, it } from 'vitest';
import { RiskEngine } from '../../../src/core/risk/engine.js';
import { distanceKm } from '../../../src/core/risk/geo.js';
import { FailureWindows } from '../../../src/core/risk/velocity.js';
import { DAY, HOUR, MINUTE, T0, bob, ctx } from './fixtures.js';
import type { LoginContext } from '../../../src/core/risk/context.js';

const OSLO = { latitude: 59.91, longitude: 10.75 };
const MADRID = { latitude: 40.42, longitude: -3.7 };

function engine(badNetworks?: { ips: Set<string>; asns: Set<string> }): RiskEngine {
  return new RiskEngine({ model: 'twofold', thresholds: { medium: 1, high: 3, veryHigh: 5 }, badNetworks });
}

/** Alice signs in `n` times a day apart at 09:00 from home with her laptop (cookie "laptop"), and bob once. */
function withHistory(e: RiskEngine, n = 20, overrides: (i: number) => Partial<LoginContext> = () => ({})): number {
  e.recordSuccess(bob({ at: T0 - DAY }));
  for (let i = 0; i < n; i++) e.recordSuccess(ctx({ at: T0 + i * DAY, deviceId: 'laptop', ...OSLO, ...overrides(i) }));
  return T0 + n * DAY;
}

const codes = (e: RiskEngine, c: LoginContext) =>
  e
    .assess(c)
    .factors.filter((f) => f.weight > 0)
    .map((f) => f.code);

describe('twofold model signals', () => {
  it('a network, browser and hour this user showed recently never raise the risk, even when every user shares them', () => {
    const e = engine();
    // Five colleagues sign in often from one office address with one browser build at the same hour,
    // so the attacker stand-in (the global frequency) is high; alice has only two sign-ins, so
    // smoothing keeps her own probabilities low. Unclamped, both terms would read as risky.
    for (let u = 0; u < 5; u++) for (let k = 0; k < 20; k++) e.recordSuccess(ctx({ userId: `colleague-${u}`, at: T0 - DAY + k }));
    for (let i = 0; i < 2; i++) e.recordSuccess(ctx({ at: T0 + i * DAY, deviceId: 'laptop' }));
    const assessed = e.assess(ctx({ at: T0 + 2 * DAY, deviceId: 'laptop' }));
    expect(assessed.factors.find((f) => f.code === 'known_network')!.weight).toBe(0);
    expect(assessed.factors.find((f) => f.code === 'unusual_time')!.weight).toBe(0);
    expect(assessed.reasons.filter((r) => r.startsWith('known') || r.startsWith('unusual time'))).toEqual([]);
  });

  it('device cookie: a known device lowers the score, a new or missing one raises it', () => {
    const e = engine();
    const now = withHistory(e);
    const known = e.assess(ctx({ at: now, deviceId: 'laptop', ...OSLO }));
    const fresh = e.assess(ctx({ at: now, deviceId: 'other', ...OSLO }));
    const none = e.assess(ctx({ at: now, ...OSLO }));
    expect(known.factors.find((f) => f.code === 'known_device')!.weight).toBeLessThan(0);
    expect(fresh.score).toBeGreaterThan(known.score);
    expect(fresh.reasons).toContain('new device');
    expect(none.score).toBeCloseTo(fresh.score, 10);
  });

  it('impossible travel: weighed by how rarely legitimate sign-ins show it, explained in km and minutes', () => {
    const e = engine();
    const now = withHistory(e);
    const last = now - DAY;
    const a = e.assess(ctx({ at: last + 20 * MINUTE, deviceId: 'laptop', ...MADRID }));
    const km = Math.round(distanceKm(OSLO.latitude, OSLO.longitude, MADRID.latitude, MADRID.longitude));
    expect(km).toBeGreaterThan(2300);
    expect(a.reasons).toContain(`${km.toLocaleString('en-US')} km from last sign-in 20 minutes ago`);
    // 19 legitimate sign-ins had a previous one to measure from, none impossible: p = (0+1)/(19+2).
    expect(a.factors.find((f) => f.code === 'impossible_travel')!.weight).toBeCloseTo(Math.log10(21), 10);
    // The same trip over a day is possible.
    expect(codes(e, ctx({ at: last + DAY, deviceId: 'laptop', ...MADRID }))).not.toContain('impossible_travel');
  });

  it('failure velocity per account: a burst of failures in the last hour, forgotten after it', () => {
    const e = engine();
    const now = withHistory(e);
    for (let i = 0; i < 3; i++) e.recordFailure(ctx({ at: now - 10 * MINUTE + i, ip: `6.6.6.${i}` }));
    const attempt = ctx({ at: now, deviceId: 'laptop', ...OSLO });
    expect(e.assess(attempt).reasons).toContain('3 failed sign-ins on this account in the last hour');
    expect(codes(e, { ...attempt, at: now + HOUR })).not.toContain('account_failures');
  });

  it('failure velocity per IP address: credential stuffing across accounts', () => {
    const e = engine();
    const now = withHistory(e);
    for (let i = 0; i < 12; i++) e.recordFailure(ctx({ at: now - 30 * MINUTE + i, userId: `victim${i}`, ip: '6.6.6.6' }));
    const a = e.assess(ctx({ at: now, ip: '6.6.6.6', deviceId: 'laptop', ...OSLO }));
    expect(a.reasons).toContain('12 failed sign-ins from this IP address in the last hour');
    expect(codes(e, ctx({ at: now, deviceId: 'laptop', ...OSLO }))).not.toContain('ip_failures');
  });

  it("known-bad networks from the operator's lists", () => {
    const e = engine({ ips: new Set(['7.7.7.7']), asns: new Set(['666']) });
    const now = withHistory(e);
    expect(e.assess(ctx({ at: now, asn: '666', ip: '7.7.7.8' })).reasons).toContain("network AS666 on the operator's block list");
    expect(e.assess(ctx({ at: now, ip: '7.7.7.7' })).factors.map((f) => f.code)).toContain('bad_network');
    expect(codes(e, ctx({ at: now, deviceId: 'laptop', ...OSLO }))).not.toContain('bad_network');
  });

  it('time of day: a user who always signs in at 09:00 is unusual at 03:00', () => {
    const e = engine();
    const now = withHistory(e);
    const usual = e.assess(ctx({ at: now, deviceId: 'laptop', ...OSLO }));
    const night = e.assess(ctx({ at: now - 6 * HOUR, deviceId: 'laptop', ...OSLO }));
    expect(night.score).toBeGreaterThan(usual.score);
    expect(night.factors.find((f) => f.code === 'unusual_time')!.weight).toBeGreaterThan(0);
    expect(night.factors.find((f) => f.code === 'unusual_time')!.text).toBe('unusual time of day for this user (03:00 UTC)');
  });

  it('recency: a network last seen long ago counts for less than one seen last week', () => {
    const stale = engine();
    const fresh = engine();
    // Same counts; in `stale` the home network was last used on day 9, in `fresh` on day 19.
    withHistory(stale, 20, (i) => (i < 10 ? {} : { ip: '3.3.3.3', asn: '300' }));
    withHistory(fresh, 20, (i) => (i >= 10 ? {} : { ip: '3.3.3.3', asn: '300' }));
    const later = T0 + 105 * DAY; // 96 days after day 9 (stale: past 90), 86 after day 19 (fresh)
    const s = stale.assess(ctx({ at: later, deviceId: 'laptop' }));
    const f = fresh.assess(ctx({ at: later, deviceId: 'laptop' }));
    expect(s.factors.find((r) => r.code === 'known_network')!.weight).toBeGreaterThan(
      f.factors.find((r) => r.code === 'known_network')!.weight,
    );
  });

  it('Witten-Bell smoothing: a new network is less suspicious for a user who often shows new ones', () => {
    const stable = engine();
    const roaming = engine();
    const now = withHistory(stable);
    withHistory(roaming, 20, (i) => ({ ip: `4.4.4.${i}`, asn: String(400 + i) }));
    const elsewhere = { at: now, ip: '5.5.5.5', asn: '500', deviceId: 'laptop', ...OSLO };
    const s = stable.assess(ctx(elsewhere)).factors.find((r) => r.code === 'new_network')!;
    const r = roaming.assess(ctx(elsewhere)).factors.find((x) => x.code === 'new_network')!;
    expect(s.weight).toBeGreaterThan(r.weight);
    expect(s.text).toBe('network never seen for this user (AS500)');
  });

  it('combined: a new country on a new device is risky with plain reasons; the usual context is low', () => {
    const e = engine();
    const now = withHistory(e);
    const usual = e.assess(ctx({ at: now, deviceId: 'laptop', ...OSLO }));
    const foreign = e.assess(bob({ userId: 'alice', at: now, ip: '8.8.8.8', asn: '800', country: 'BR', deviceId: 'x', ...MADRID }));
    expect(usual.band).toBe('low');
    expect(usual.decision).toBe('allow');
    expect(usual.reasons).toEqual([]);
    expect(foreign.score - usual.score).toBeGreaterThan(3);
    expect(['medium', 'high', 'very_high']).toContain(foreign.band);
    expect(foreign.reasons).toContain('country never seen for this user (BR)');
    expect(foreign.reasons).toContain('new device');
    expect(foreign.reasons.length).toBeLessThanOrEqual(3);
  });

  it('the freeman model is selectable on the same engine', () => {
    const e = new RiskEngine({ model: 'freeman', thresholds: { medium: 1, high: 3, veryHigh: 5 } });
    withHistory(e);
    const a = e.assess(ctx({ at: T0 + 30 * DAY }));
    expect(a.factors.map((f) => f.code)).toEqual(['ip', 'ua', 'account_history']);
  });

  it('a first sign-in is asked for a second factor: the account prior alone never makes it high', () => {
    const e = engine();
    // A busy service: 30 users with 20 sign-ins each, so log10(1 + N/|U|) ≈ 1.3 > high (1).
    for (let u = 0; u < 30; u++) for (let i = 0; i < 20; i++) e.recordSuccess(ctx({ userId: `u${u}`, at: T0 + i * HOUR }));
    const first = e.assess(ctx({ userId: 'newcomer', at: T0 + DAY }));
    expect(first.factors.find((f) => f.code === 'account_history')!.weight).toBeGreaterThan(1.3);
    expect(first.band).toBe('medium');
    expect(first.decision).toBe('second_factor');
    expect(e.scoreAndBand(ctx({ userId: 'newcomer', at: T0 + DAY })).band).toBe('medium');
    // Evidence still counts: a burst of failures on the new account raises it.
    for (let i = 0; i < 3; i++) e.recordFailure(ctx({ userId: 'newcomer', at: T0 + DAY - i * MINUTE }));
    expect(e.assess(ctx({ userId: 'newcomer', at: T0 + DAY })).band).not.toBe('low');
  });
});

describe('failure windows', () => {
  it('count failures in the sliding window only', () => {
    const w = new FailureWindows(HOUR);
    w.record('k', 0);
    w.record('k', 30 * MINUTE);
    expect(w.count('k', 59 * MINUTE)).toBe(2);
    expect(w.count('k', 61 * MINUTE)).toBe(1);
    expect(w.count('k', 3 * HOUR)).toBe(0);
  });
});
