import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { startHarness, type Harness } from '../support/harness.js';
import { ApiClient, STRONG_PASSWORD, enrollTotp, totpAt, type EnrolledUser } from '../http/client.js';

/**
 * Adaptive authentication over HTTP, behind a trusted reverse proxy (10.0.0.1) whose
 * X-Forwarded-For places each request in a real country of the packaged DB-IP database.
 */
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const PROXY = '10.0.0.1';
const LONDON = '81.2.69.142';
const SYDNEY = '1.1.1.1';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const CHROME_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const at = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });

/** alice, enrolled, with two weeks of ordinary sign-ins from London on one laptop, the last of which remembers it. */
async function usualLife(overrides: Record<string, unknown>) {
  const h = await startHarness({ overrides: { trusted_proxies: ['10.0.0.0/8'], ...overrides } });
  await addUser(h.deps, { username: 'alice', password: STRONG_PASSWORD, isAdmin: false }, null);
  const laptop = new ApiClient(h, { ip: PROXY, userAgent: FIREFOX });
  const alice = await enrollTotp(h, laptop, 'alice', STRONG_PASSWORD);
  const totpSignIn = async (client: ApiClient, ip: string, remember = false) => {
    h.clock.advance(30_000);
    const login = await client.login(alice.username, alice.password, at(ip));
    if (login.body.state !== 'second_factor_required') return login;
    return client.post(
      '/api/v1/login/second-factor',
      { method: 'totp', code: totpAt(alice.secret, h.clock.now()), ...(remember ? { remember_device: true } : {}) },
      at(ip),
    );
  };
  for (let day = 0; day < 14; day++) {
    h.clock.advance(DAY);
    const res = await totpSignIn(laptop, LONDON, day === 13);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }
  return { h, laptop, alice, totpSignIn };
}

async function lastDecision(h: Harness): Promise<Record<string, unknown>> {
  const events = await h.deps.store.events.list({ limit: 20 });
  return events.find((e) => e.type === 'risk.decision')!.detail!;
}

describe('adaptive sign-in (risk thresholds high: 3, very_high: 5)', () => {
  let h: Harness;
  let laptop: ApiClient;
  let alice: EnrolledUser;
  let totpSignIn: (client: ApiClient, ip: string, remember?: boolean) => Promise<any>;

  beforeAll(async () => {
    ({ h, laptop, alice, totpSignIn } = await usualLife({ risk: { thresholds: { high: 3, very_high: 5 } } }));
  });
  afterAll(async () => {
    await h?.close();
  });

  it('the usual context on the remembered laptop is not asked for a second factor, and gets the full session length', async () => {
    h.clock.advance(DAY);
    const login = await laptop.login('alice', STRONG_PASSWORD, at(LONDON));
    expect(login.status).toBe(200);
    expect(login.body.state).toBe('authenticated');
    expect(Date.parse(login.body.expires_at) - h.clock.now()).toBe(12 * HOUR);
    expect(await lastDecision(h)).toMatchObject({
      band: 'low',
      decision: 'allow',
      trusted_device: true,
      next: 'authenticated',
      model: 'twofold',
    });
    // The remembered device's secret was rotated: the browser got a new device cookie.
    expect(login.setCookies.map((c: { name: string }) => c.name)).toContain('twofold_device');
  });

  it('a new device in a new country is asked for a second factor, and its session is shorter', async () => {
    const other = new ApiClient(h, { ip: PROXY, userAgent: CHROME_WINDOWS });
    h.clock.advance(DAY);
    const login = await other.login('alice', STRONG_PASSWORD, at(SYDNEY));
    expect(login.status).toBe(200);
    expect(login.body.state).toBe('second_factor_required');
    const decision = await lastDecision(h);
    expect(decision).toMatchObject({ band: 'medium', decision: 'second_factor', trusted_device: false, country: 'AU' });
    expect(decision.reasons).toContain('new device');
    const done = await other.post('/api/v1/login/second-factor', { method: 'totp', code: totpAt(alice.secret, h.clock.now()) }, at(SYDNEY));
    expect(done.status).toBe(200);
    // session_by_risk.medium: 4h absolute, 15m idle (the configured maxima are 12h and 30m).
    expect(Date.parse(done.body.expires_at) - h.clock.now()).toBe(4 * HOUR);
    const session = await other.session();
    expect(Date.parse(session.body.idle_expires_at) - h.clock.now()).toBe(15 * 60_000);
    // A touch later keeps the shorter idle timeout.
    h.clock.advance(5 * 60_000);
    const touched = await other.session();
    expect(Date.parse(touched.body.idle_expires_at) - h.clock.now()).toBe(15 * 60_000);
  });

  it('a remembered device is listed, and once revoked its sign-ins are asked for a second factor again', async () => {
    h.clock.advance(DAY);
    expect((await laptop.login('alice', STRONG_PASSWORD, at(LONDON))).body.state).toBe('authenticated');
    const list = await laptop.get('/api/v1/devices');
    expect(list.status).toBe(200);
    expect(list.body.devices).toHaveLength(1);
    expect(list.body.devices[0]).toMatchObject({ label: 'Firefox 128 on Linux', location: 'London, GB', ip: LONDON });

    const revoked = await laptop.delete(`/api/v1/devices/${list.body.devices[0].id}`);
    expect(revoked.status).toBe(204);
    expect((await laptop.delete(`/api/v1/devices/${list.body.devices[0].id}`)).status).toBe(404);
    expect((await laptop.get('/api/v1/devices')).body.devices).toEqual([]);

    h.clock.advance(HOUR);
    const again = await laptop.login('alice', STRONG_PASSWORD, at(LONDON));
    expect(again.body.state).toBe('second_factor_required');
    expect(await lastDecision(h)).toMatchObject({ trusted_device: false, next: 'second_factor_required' });
    const events = await h.deps.store.events.list({ limit: 50 });
    expect(events.some((e) => e.type === 'device.revoked')).toBe(true);
  });

  it('a copy of an old device cookie does not count as the remembered device', async () => {
    const res = await totpSignIn(laptop, LONDON, true);
    expect(res.status).toBe(200);
    const copied = laptop.jar.get('twofold_device')!;
    h.clock.advance(DAY);
    // The real laptop signs in (secret rotated); the copy then presents the old secret.
    expect((await laptop.login('alice', STRONG_PASSWORD, at(LONDON))).body.state).toBe('authenticated');
    const thief = new ApiClient(h, { ip: PROXY, userAgent: FIREFOX });
    h.clock.advance(HOUR);
    const stolen = await thief.login('alice', STRONG_PASSWORD, { ...at(LONDON), cookies: { twofold_device: copied } });
    expect(stolen.body.state).toBe('second_factor_required');
    expect(await lastDecision(h)).toMatchObject({ trusted_device: false });
  });

  it('the history survives a restart: a new engine loads it from the store', async () => {
    const before = h.deps.risk!.engine.history.user((await h.deps.store.users.findByUsername('alice'))!.id).logins;
    const { RiskService } = await import('../../src/auth/risk/risk-service.js');
    const restarted = await RiskService.start(h.deps.config, h.clock, h.deps.store, async () => undefined);
    await restarted.ready();
    const user = (await h.deps.store.users.findByUsername('alice'))!;
    expect(restarted.engine.history.user(user.id).logins).toBe(before);
    expect(before).toBeGreaterThanOrEqual(16);
    await restarted.close();
  });
});

describe('adaptive sign-in with the default thresholds', () => {
  let h: Harness;
  beforeAll(async () => {
    ({ h } = await usualLife({}));
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a high-risk sign-in of a user without a passkey is denied like a wrong password, and recorded', async () => {
    const other = new ApiClient(h, { ip: PROXY, userAgent: CHROME_WINDOWS });
    h.clock.advance(DAY);
    const login = await other.login('alice', STRONG_PASSWORD, at(SYDNEY));
    expect(login.status).toBe(401);
    expect(login.body.error.code).toBe('invalid_credentials');
    const decision = await lastDecision(h);
    expect(decision).toMatchObject({ band: 'high', decision: 'phishing_resistant_or_deny', next: 'denied' });
    expect(other.pendingToken).toBeUndefined();
  });
});
