import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GeoIp } from '../../src/context/geoip.js';
import { proxyTrust, trustedNetworks } from '../../src/context/trusted-proxies.js';
import { userAgentFeatures } from '../../src/context/sign-in-context.js';
import { deviceHash, parseDeviceCookie } from '../../src/context/device-cookie.js';
import { lifetimesForRisk } from '../../src/core/policy/risk-lifetimes.js';
import { addUser } from '../../src/auth/users.js';
import { startHarness, type Harness } from '../support/harness.js';
import { ApiClient, STRONG_PASSWORD } from '../http/client.js';

describe('client address: X-Forwarded-For only through trusted proxies, right to left', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ overrides: { trusted_proxies: ['10.0.0.0/8', 'fd00::/8'], login: { require_second_factor: false } } });
    await addUser(h.deps, { username: 'carol', password: STRONG_PASSWORD, isAdmin: false }, null);
  });
  afterAll(async () => {
    await h?.close();
  });

  /** Signs in from `socket` with this X-Forwarded-For and returns the address the audit trail recorded (request.ip). */
  async function recordedIp(socket: string, forwardedFor?: string): Promise<string> {
    const client = new ApiClient(h, { ip: socket });
    await client.login('carol', STRONG_PASSWORD, forwardedFor ? { headers: { 'x-forwarded-for': forwardedFor } } : {});
    const events = await h.deps.store.events.list({ limit: 5 });
    return events.find((e) => e.type === 'login.password')!.ip!;
  }

  it('walks right to left past trusted proxies and stops at the first untrusted address', async () => {
    expect(await recordedIp('10.0.0.1', '81.2.69.142')).toBe('81.2.69.142');
    expect(await recordedIp('10.0.0.1', '203.0.113.9, 81.2.69.142, 10.1.2.3')).toBe('81.2.69.142');
    // A client-supplied leftmost entry is never believed past an untrusted hop.
    expect(await recordedIp('10.0.0.1', '1.1.1.1, 81.2.69.142')).toBe('81.2.69.142');
    expect(await recordedIp('::ffff:10.0.0.1', '81.2.69.142')).toBe('81.2.69.142');
  });

  it('ignores X-Forwarded-For from an untrusted peer', async () => {
    expect(await recordedIp('198.51.100.7', '81.2.69.142')).toBe('198.51.100.7');
    expect(await recordedIp('198.51.100.7')).toBe('198.51.100.7');
  });

  it('the predicate and its CIDR parsing', () => {
    expect(proxyTrust([])).toBe(false);
    const trust = proxyTrust(['10.0.0.0/8', '2001:db8::/32']) as (a: string, i: number) => boolean;
    expect(trust('10.255.0.1', 0)).toBe(true);
    expect(trust('::ffff:10.0.0.1', 0)).toBe(true);
    expect(trust('11.0.0.1', 0)).toBe(false);
    expect(trust('2001:db8::1', 0)).toBe(true);
    expect(trust('not an ip', 0)).toBe(false);
    expect(() => trustedNetworks(['10.0.0.0/33'])).toThrow(/bad prefix/);
    expect(() => trustedNetworks(['999.0.0.1'])).toThrow(/not an IP/);
  });
});

describe('where an address is: the packaged DB-IP Lite mmdb', () => {
  let geo: GeoIp;
  beforeAll(async () => {
    geo = await GeoIp.open({ cityDb: 'builtin', asnDb: null });
  });

  it('places known public addresses', () => {
    expect(geo.lookup('81.2.69.142')).toMatchObject({ country: 'GB', city: 'London', region: 'England' });
    const sydney = geo.lookup('1.1.1.1');
    expect(sydney.country).toBe('AU');
    expect(sydney.latitude).toBeCloseTo(-33.87, 0);
    expect(sydney.longitude).toBeCloseTo(151.2, 0);
    expect(geo.lookup('::ffff:81.2.69.142').country).toBe('GB');
    expect(geo.lookup('2001:4860:4860::8888').country).toMatch(/^[A-Z]{2}$/);
  });

  it('knows nothing of private or malformed addresses', () => {
    expect(geo.lookup('127.0.0.1')).toEqual({ asn: '', org: '', country: '', region: '', city: '' });
    expect(geo.lookup('10.1.2.3').country).toBe('');
    expect(geo.lookup('garbage').country).toBe('');
  });

  it('refuses a database file that does not open, naming it', async () => {
    await expect(GeoIp.open({ cityDb: '/nonexistent/GeoLite2-City.mmdb', asnDb: null })).rejects.toThrow(/GeoLite2-City\.mmdb/);
  });
});

describe('browser and device cookie', () => {
  it('describes a user agent as browser+version, OS+version, device type', () => {
    expect(userAgentFeatures('Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0')).toEqual({
      browser: 'Firefox 128.0',
      os: 'Windows 10',
      deviceType: 'desktop',
    });
    expect(
      userAgentFeatures(
        'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36',
      ).deviceType,
    ).toBe('mobile');
  });

  it('parses only well-formed device cookies and keeps only hashes', () => {
    const value = `${'a'.repeat(22)}.${'b'.repeat(43)}`;
    const device = parseDeviceCookie(value)!;
    expect(device).toEqual({ id: 'a'.repeat(22), secret: 'b'.repeat(43), isNew: false, send: false });
    expect(deviceHash(device)).toMatch(/^[0-9a-f]{64}$/);
    expect(parseDeviceCookie('x.y')).toBeUndefined();
    expect(parseDeviceCookie(undefined)).toBeUndefined();
  });
});

describe('session lifetimes by risk band', () => {
  const base = {
    idleTimeoutMs: 30 * 60_000,
    absoluteLifetimeMs: 12 * 3_600_000,
    touchIntervalMs: 60_000,
    enrollmentLifetimeMs: 15 * 60_000,
  };
  const table = {
    medium: { idleTimeoutMs: 15 * 60_000, absoluteLifetimeMs: 4 * 3_600_000 },
    high: { idleTimeoutMs: 5 * 60_000, absoluteLifetimeMs: 3_600_000 },
  };
  it('low gets the configured maximum, medium shorter, high much shorter', () => {
    expect(lifetimesForRisk(base, 'low', table)).toEqual(base);
    expect(lifetimesForRisk(base, undefined, table)).toEqual(base);
    expect(lifetimesForRisk(base, 'medium', table)).toMatchObject({ idleTimeoutMs: 15 * 60_000, absoluteLifetimeMs: 4 * 3_600_000 });
    expect(lifetimesForRisk(base, 'high', table)).toMatchObject({ idleTimeoutMs: 5 * 60_000, absoluteLifetimeMs: 3_600_000 });
  });
  it('never longer than the configured caps, and idle never beyond absolute', () => {
    const tight = { ...base, idleTimeoutMs: 10 * 60_000, absoluteLifetimeMs: 2 * 3_600_000 };
    expect(lifetimesForRisk(tight, 'medium', table)).toMatchObject({ idleTimeoutMs: 10 * 60_000, absoluteLifetimeMs: 2 * 3_600_000 });
    const odd = { medium: { idleTimeoutMs: 5 * 3_600_000, absoluteLifetimeMs: 3_600_000 }, high: table.high };
    expect(lifetimesForRisk(base, 'medium', odd)).toMatchObject({ idleTimeoutMs: 30 * 60_000, absoluteLifetimeMs: 3_600_000 });
  });
});
