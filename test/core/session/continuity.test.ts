import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  evaluateContinuity,
  SAME_CONTEXT,
  type ContinuityLookups,
  type Place,
} from '../../../src/core/session/continuity.js';

const PLACES: Record<string, Place> = {
  '10.0.0.1': { asn: '100', country: 'GB', latitude: 51.5, longitude: -0.1 },
  '10.0.0.2': { asn: '100', country: 'GB', latitude: 51.5, longitude: -0.1 },
  '10.0.0.3': { asn: '200', country: 'GB', latitude: 51.5, longitude: -0.1 },
  '10.0.0.4': { asn: '300', country: 'FR', latitude: 48.86, longitude: 2.35 },
  '10.0.0.5': { asn: '400', country: 'AU', latitude: -33.87, longitude: 151.2 },
  '10.0.0.6': { asn: '', country: '' },
};
const BROWSERS: Record<string, { browserFamily: string; browserVersion: string; osFamily: string }> = {
  chrome120: { browserFamily: 'Chrome', browserVersion: '120.0.1', osFamily: 'Windows' },
  chrome121: { browserFamily: 'Chrome', browserVersion: '121.0.0', osFamily: 'Windows' },
  chrome119: { browserFamily: 'Chrome', browserVersion: '119.9', osFamily: 'Windows' },
  chromeMac: { browserFamily: 'Chrome', browserVersion: '120.0.1', osFamily: 'Mac OS' },
  firefox: { browserFamily: 'Firefox', browserVersion: '121', osFamily: 'Windows' },
};
let lookupsAsked = 0;
const lookups: ContinuityLookups = {
  place: (ip) => (lookupsAsked++, PLACES[ip] ?? { asn: '', country: '' }),
  browser: (ua) => (lookupsAsked++, BROWSERS[ua]!),
};
const HOUR = 3_600_000;
const session = { ip: '10.0.0.1', userAgent: 'chrome120', createdAt: 0 };
const at = (ip: string, userAgent = 'chrome120', deviceHash?: () => string | null) => ({
  ip,
  userAgent,
  ...(deviceHash ? { deviceHash } : {}),
});

describe('evaluateContinuity (core/session/continuity.ts)', () => {
  it('the same address and browser string return at once, without looking anything up (device not even asked)', () => {
    lookupsAsked = 0;
    let deviceAsked = 0;
    const verdict = evaluateContinuity(
      { ...session, deviceHash: 'd1' },
      at('10.0.0.1', 'chrome120', () => (deviceAsked++, null)),
      lookups,
      HOUR,
    );
    expect(verdict).toBe(SAME_CONTEXT);
    expect(lookupsAsked + deviceAsked).toBe(0);
  });

  it('bands: low for a new address in the same network or a browser update, medium for a new network or country, high for another browser or OS family', () => {
    const band = (ip: string, ua = 'chrome120', now = 5 * HOUR) => evaluateContinuity(session, at(ip, ua), lookups, now);
    expect(band('10.0.0.2')).toEqual({ band: 'low', reasons: ['ip_changed'] });
    expect(band('10.0.0.1', 'chrome121')).toEqual({ band: 'low', reasons: ['browser_updated'] });
    expect(band('10.0.0.6')).toEqual({ band: 'low', reasons: ['ip_changed'] }); // unknown place: no evidence
    expect(band('10.0.0.3')).toEqual({ band: 'medium', reasons: ['ip_changed', 'asn_changed'] });
    expect(band('10.0.0.4')).toEqual({ band: 'medium', reasons: ['ip_changed', 'asn_changed', 'country_changed'] });
    expect(band('10.0.0.1', 'chrome119')).toEqual({ band: 'medium', reasons: ['browser_downgraded'] });
    expect(band('10.0.0.1', 'firefox')).toEqual({ band: 'high', reasons: ['browser_family_changed'] });
    expect(band('10.0.0.1', 'chromeMac')).toEqual({ band: 'high', reasons: ['os_family_changed', 'user_agent_changed'] });
  });

  it('impossible travel is high; the same journey with time enough is only a new country', () => {
    expect(evaluateContinuity(session, at('10.0.0.5'), lookups, HOUR).reasons).toContain('impossible_travel');
    expect(evaluateContinuity(session, at('10.0.0.5'), lookups, 30 * HOUR)).toMatchObject({ band: 'medium' });
    expect(evaluateContinuity(session, at('10.0.0.4'), lookups, 30 * 60_000).band).toBe('medium');
    expect(evaluateContinuity(session, at('10.0.0.4'), lookups, 60_000).band).toBe('high');
  });

  it('a device-bound session: a missing or different device cookie is high once the context moved; unseen devices are not compared', () => {
    const bound = { ...session, deviceHash: 'd1' };
    expect(
      evaluateContinuity(
        bound,
        at('10.0.0.2', 'chrome120', () => null),
        lookups,
        HOUR,
      ),
    ).toEqual({
      band: 'high',
      reasons: ['ip_changed', 'device_missing'],
    });
    expect(
      evaluateContinuity(
        bound,
        at('10.0.0.2', 'chrome120', () => 'd2'),
        lookups,
        HOUR,
      ).reasons,
    ).toContain('device_changed');
    expect(
      evaluateContinuity(
        bound,
        at('10.0.0.2', 'chrome120', () => 'd1'),
        lookups,
        HOUR,
      ).band,
    ).toBe('low');
    expect(evaluateContinuity(bound, at('10.0.0.2'), lookups, HOUR).band).toBe('low');
  });

  it('compareVersions orders dotted versions numerically', () => {
    expect(compareVersions('120.0.10', '120.0.9')).toBeGreaterThan(0);
    expect(compareVersions('119', '120.0')).toBeLessThan(0);
    expect(compareVersions('', '120')).toBe(0);
  });
});
