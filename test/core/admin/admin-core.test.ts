import { describe, expect, it } from 'vitest';
import { adminAccess } from '../../../src/core/admin/admin-access.js';
import { behaviourBaseline, networkOf } from '../../../src/core/admin/behaviour-baseline.js';
import { maskedConfig, MASK, humanDuration } from '../../../src/core/admin/config-view.js';
import { csvCell } from '../../../src/core/admin/event-records.js';
import { riskDecisionOf, scoreHistogram } from '../../../src/core/admin/risk-summary.js';
import { countedSteps, signInOutcomeOf, signInsOverTime } from '../../../src/core/admin/sign-in-outcomes.js';
import { parsePointInTime } from '../../../src/core/admin/time-filter.js';
import type { SessionId, UserId } from '../../../src/core/ids.js';
import type { Session } from '../../../src/core/session/session.js';

const NOW = Date.parse('2026-11-27T10:00:00Z');
const session = (amr: Session['amr'], kind: Session['kind'] = 'full'): Session => ({
  id: 'ses_x' as SessionId,
  userId: 'usr_x' as UserId,
  kind,
  aal: amr.length > 1 ? 2 : 1,
  amr,
  authTime: NOW,
  createdAt: NOW,
  lastSeenAt: NOW,
  idleExpiresAt: NOW + 1,
  expiresAt: NOW + 1,
  ip: '',
  userAgent: '',
  revokedAt: null,
  revokedReason: null,
});

describe('admin access', () => {
  const MAX_AGE = 10 * 60_000;
  it('needs the admin role and a two-factor session whose second factor is within the freshness window', () => {
    const fresh = session([
      { method: 'pwd', at: NOW - 3_600_000 },
      { method: 'otp', at: NOW - MAX_AGE },
    ]);
    expect(adminAccess(true, fresh, NOW, MAX_AGE)).toEqual({ kind: 'allowed' });
    expect(adminAccess(false, fresh, NOW, MAX_AGE)).toEqual({ kind: 'not_admin' });
    expect(adminAccess(true, fresh, NOW + 1, MAX_AGE)).toEqual({
      kind: 'step_up_required',
      decision: { kind: 'step_up_required', reason: 'stale', maxAuthAgeMs: MAX_AGE },
    });
    // A recent password alone is not enough: the console needs two factors.
    const passwordOnly = adminAccess(true, session([{ method: 'pwd', at: NOW }]), NOW, MAX_AGE);
    expect(passwordOnly).toMatchObject({ kind: 'step_up_required', decision: { reason: 'aal' } });
  });
});

describe('sign-in outcomes', () => {
  it.each([
    [{ type: 'login.password', outcome: 'failure', reason: 'wrong_password', detail: null }, 'failed'],
    [{ type: 'login.password', outcome: 'failure', reason: 'unknown_user', detail: null }, 'failed'],
    [{ type: 'login.password', outcome: 'failure', reason: 'user_disabled', detail: null }, 'denied'],
    [{ type: 'login.password', outcome: 'failure', reason: 'risk_denied', detail: null }, 'denied'],
    [{ type: 'login.password', outcome: 'success', reason: null, detail: { next: 'second_factor_required' } }, 'second_factor_asked'],
    [{ type: 'login.password', outcome: 'success', reason: null, detail: { next: 'enrollment_required' } }, 'second_factor_asked'],
    [{ type: 'login.password', outcome: 'success', reason: null, detail: { next: 'authenticated' } }, 'success'],
    [{ type: 'login.second_factor', outcome: 'success', reason: null, detail: { method: 'totp' } }, 'success'],
    [{ type: 'login.second_factor', outcome: 'failure', reason: 'invalid', detail: { method: 'totp' } }, 'failed'],
    [{ type: 'session.created', outcome: 'success', reason: null, detail: null }, null],
  ])('%o is %s', (event, outcome) => expect(signInOutcomeOf(event)).toBe(outcome));

  it('counts an accepted password once: by its risk verdict where the risk engine judged it', () => {
    const hour = 3_600_000;
    const policy = { type: 'login.password', outcome: 'success', reason: null, detail: { next: 'second_factor_required' } };
    const skipped = { type: 'risk.decision', outcome: 'success', reason: null, detail: { next: 'authenticated' } };
    const denied = { type: 'risk.decision', outcome: 'failure', reason: 'denied', detail: { next: 'denied' } };
    const series = signInsOverTime(
      [
        { ...policy, bucketStart: NOW, count: 3 },
        { ...skipped, bucketStart: NOW, count: 2 },
        { ...denied, bucketStart: NOW, count: 1 },
        // An hour before the engine ran: the policy's verdict is all there is.
        { ...policy, bucketStart: NOW - hour, count: 4 },
      ],
      NOW - hour,
      NOW + hour,
      hour,
    );
    expect(series.series).toEqual({ success: [0, 2], second_factor_asked: [4, 0], denied: [0, 1], failed: [0, 0] });
    expect(countedSteps([policy, skipped]).map((e) => e.type)).toEqual(['risk.decision']);
    expect(countedSteps([policy]).map((e) => e.type)).toEqual(['login.password']);
    expect(signInOutcomeOf({ type: 'risk.decision', outcome: 'success', reason: null, detail: { score: 0.1 } })).toBeNull();
  });

  it('fills every bucket of the period, zero when quiet', () => {
    const hour = 3_600_000;
    const series = signInsOverTime(
      [
        { type: 'login.second_factor', outcome: 'success', reason: null, detail: null, bucketStart: NOW - 2 * hour, count: 3 },
        { type: 'login.password', outcome: 'failure', reason: 'wrong_password', detail: null, bucketStart: NOW, count: 2 },
        { type: 'login.password', outcome: 'failure', reason: 'wrong_password', detail: null, bucketStart: NOW + 9 * hour, count: 7 },
      ],
      NOW - 3 * hour,
      NOW + hour,
      hour,
    );
    expect(series.buckets).toHaveLength(4);
    expect(series.series.success).toEqual([0, 3, 0, 0]);
    expect(series.series.failed).toEqual([0, 0, 0, 2]);
  });
});

describe('risk summary', () => {
  it('reads decisions from risk.decision events and ignores malformed ones', () => {
    const base = { type: 'risk.decision', at: NOW, userId: null, ip: '192.0.2.1' };
    expect(riskDecisionOf({ ...base, detail: { score: 0.7, band: 'high', decision: 'step_up', reasons: ['new_device'] } })).toMatchObject({
      score: 0.7,
      band: 'high',
      reasons: ['new_device'],
    });
    expect(riskDecisionOf({ ...base, detail: { score: 'high' } })).toBeNull();
    expect(riskDecisionOf({ ...base, type: 'login.password', detail: { score: 1 } })).toBeNull();
  });

  it('bins scores over 0–1 when they fit, else over the whole units around them', () => {
    const unit = scoreHistogram([0, 0.05, 0.5, 1]);
    expect(unit.counts).toEqual([2, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
    expect(unit.labels[5]).toBe('0.5 – 0.6');
    const logOdds = scoreHistogram([-2.4, -1.1, 0.3, 2.6]);
    expect(logOdds.edges[0]).toBe(-3);
    expect(logOdds.labels[0]).toBe('-3 – -2.4');
    expect(logOdds.counts.reduce((a, b) => a + b, 0)).toBe(4);
    expect(logOdds.counts[9]).toBe(1); // 2.6 in the top bin (2.4 – 3)
    expect(scoreHistogram([]).counts.every((c) => c === 0)).toBe(true);
  });
});

describe('behaviour baseline', () => {
  it('groups addresses into networks', () => {
    expect(networkOf('203.0.113.7')).toBe('203.0.113.0/24');
    expect(networkOf('::ffff:203.0.113.7')).toBe('203.0.113.0/24');
    expect(networkOf('2001:db8:1234:5678::1')).toBe('2001:db8:1234::/48');
    expect(networkOf('2001:db8::1')).toBe('2001:db8:0::/48');
  });

  it('counts successful sign-ins by network, device, country and hour of the week (UTC)', () => {
    const friday9 = Date.parse('2026-11-27T09:15:00Z');
    const monday23 = Date.parse('2026-11-23T23:59:00Z');
    const ok = { type: 'login.second_factor', outcome: 'success', reason: null, detail: { method: 'totp' } };
    const b = behaviourBaseline(
      [
        { ...ok, at: friday9, ip: '203.0.113.7', userAgent: 'A' },
        { ...ok, at: friday9, ip: '203.0.113.9', userAgent: 'A' },
        { ...ok, at: monday23, ip: '192.0.2.1', userAgent: 'B' },
        {
          type: 'login.password',
          outcome: 'failure',
          reason: 'wrong_password',
          detail: null,
          at: monday23,
          ip: '198.51.100.1',
          userAgent: 'C',
        },
        {
          type: 'risk.decision',
          outcome: 'success',
          reason: null,
          detail: { score: 0.1, country: 'PT' },
          at: monday23,
          ip: null,
          userAgent: null,
        },
      ],
      (ua) => `device ${ua}`,
    );
    expect(b.signIns).toBe(3);
    expect(b.networks).toEqual([
      { key: '203.0.113.0/24', count: 2 },
      { key: '192.0.2.0/24', count: 1 },
    ]);
    expect(b.devices).toEqual([
      { key: 'device A', count: 2 },
      { key: 'device B', count: 1 },
    ]);
    expect(b.countries).toEqual([{ key: 'PT', count: 1 }]);
    expect(b.heatMap[4]![9]).toBe(2);
    expect(b.heatMap[0]![23]).toBe(1);
    expect(b.heatMap.flat().reduce((x, y) => x + y, 0)).toBe(3);
    expect([b.firstSeen, b.lastSeen]).toEqual([monday23, friday9]);
  });
});

describe('config view', () => {
  it('masks secrets by key, keeps the rest, drops functions', () => {
    const masked = maskedConfig({
      encryptionKey: 'c2VjcmV0',
      metrics: { token: 'tok', networks: ['127.0.0.0/8'] },
      emptyToken: '',
      publicUrl: new URL('https://auth.example.com/'),
      email: { smtp: 'smtp://mailer:hunter2hunter2@mail.example.com:587' },
      redis: new URL('redis://:p4ss@127.0.0.1:6379'),
      session: { idleTimeoutMs: 1_800_000 },
      match: () => true,
    });
    expect(masked).toEqual({
      encryptionKey: MASK,
      metrics: { token: MASK, networks: ['127.0.0.0/8'] },
      emptyToken: '',
      publicUrl: 'https://auth.example.com/',
      email: { smtp: `smtp://mailer:${MASK}@mail.example.com:587` },
      redis: `redis://:${MASK}@127.0.0.1:6379`,
      session: { idleTimeoutMs: 1_800_000 },
    });
    expect([humanDuration(1_800_000), humanDuration(43_200_000), humanDuration(90_000), humanDuration(250)]).toEqual([
      '30m',
      '12h',
      '90s',
      '250ms',
    ]);
  });
});

describe('export cells and time filters', () => {
  it('quotes CSV per RFC 4180 and defuses formulas', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('=1+1')).toBe("'=1+1");
    expect(csvCell('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvCell(null)).toBe('');
    expect(csvCell({ a: 1 })).toBe('"{""a"":1}"');
  });

  it('reads ISO dates and durations ago', () => {
    expect(parsePointInTime('24h', NOW)).toBe(NOW - 86_400_000);
    expect(parsePointInTime('2026-11-20', NOW)).toBe(Date.parse('2026-11-20T00:00:00Z'));
    expect(parsePointInTime('2026-11-20T08:30', NOW)).toBe(Date.parse('2026-11-20T08:30:00Z'));
    expect(parsePointInTime('2026-11-20T08:30:00+01:00', NOW)).toBe(Date.parse('2026-11-20T07:30:00Z'));
    for (const bad of ['yesterday', '', '2026-13-45', '86400']) expect(parsePointInTime(bad, NOW)).toBeNull();
  });
});
