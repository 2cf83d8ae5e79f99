import type { LoginContext } from '../../../src/core/risk/context.js';

export const T0 = Date.UTC(2026, 0, 5, 9, 0);
export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** Alice at home in Oslo on her laptop. */
export function ctx(overrides: Partial<LoginContext> = {}): LoginContext {
  return {
    at: T0,
    userId: 'alice',
    ip: '1.1.1.1',
    asn: '100',
    country: 'NO',
    region: 'Oslo',
    city: 'Oslo',
    userAgent: 'UA1',
    browser: 'Chrome 80',
    os: 'Windows 10',
    deviceType: 'desktop',
    ...overrides,
  };
}

/** Bob in Stockholm with Firefox. */
export const bob = (overrides: Partial<LoginContext> = {}) =>
  ctx({
    userId: 'bob',
    ip: '2.2.2.2',
    asn: '200',
    country: 'SE',
    region: 'Stockholm',
    city: 'Stockholm',
    userAgent: 'UA2',
    browser: 'Firefox 72',
    ...overrides,
  });
