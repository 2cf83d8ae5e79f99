import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import type { AuditEvent } from '../../src/store/store.js';
import { ApiClient, enrollTotp, STRONG_PASSWORD, totpAt, type EnrolledUser } from '../http/client.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * Continuous evaluation over real HTTP: a fetch client whose address is set by X-Forwarded-For
 * through a trusted proxy (127.0.0.1) and whose browser is its User-Agent, against the API and the
 * nginx forward-auth endpoint (/auth/request). Addresses are placed by the built-in DB-IP Lite
 * database: 81.2.69.142 and 81.2.69.160 London, 80.67.169.12 Paris, 1.1.1.1 Sydney.
 */

const LONDON = '81.2.69.142';
const LONDON_2 = '81.2.69.160';
const PARIS = '80.67.169.12';
const SYDNEY = '1.1.1.1';
const CHROME_120 = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.109 Safari/537.36';
const CHROME_120_PATCH =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.130 Safari/537.36';
const FIREFOX = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0';
const MINUTE = 60_000;
const APP_URL = 'https://app.example.com/private';

interface Reply {
  status: number;
  body: any;
}

/** A browser as the server sees it through a proxy: a cookie jar, an address and a user agent. */
class HttpBrowser {
  readonly jar = new Map<string, string>();
  constructor(
    private readonly h: Harness,
    public ip: string,
    public userAgent: string,
  ) {}

  async request(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; cookies?: boolean } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = {
      'user-agent': this.userAgent,
      'x-forwarded-for': this.ip,
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(method !== 'GET' ? { origin: this.h.origin } : {}),
      ...options.headers,
    };
    if (options.cookies !== false && this.jar.size) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(this.h.baseUrl + path, {
      method,
      headers,
      redirect: 'manual',
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    });
    for (const cookie of res.headers.getSetCookie()) {
      const [pair = ''] = cookie.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (!value || /max-age=0/i.test(cookie) || /expires=Thu, 01 Jan 1970/i.test(cookie)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  get = (path: string, options?: { headers?: Record<string, string>; cookies?: boolean }) => this.request('GET', path, options);
  post = (path: string, body?: unknown, options?: { headers?: Record<string, string> }) =>
    this.request('POST', path, { ...options, body: body ?? {} });

  /** nginx's auth_request subrequest: the browser's own headers, and the original URL. */
  gate = () => this.get('/auth/request', { headers: { 'x-original-url': APP_URL, 'x-original-method': 'GET' } });
}

describe('continuous evaluation during a session (real HTTP, X-Forwarded-For through a trusted proxy)', () => {
  let h: Harness;
  let alice: EnrolledUser;

  beforeEach(async () => {
    h = await startHarness({
      listen: true,
      overrides: { trusted_proxies: ['127.0.0.1/32'], access_control: { default_policy: 'two_factor' } },
    });
    await addUser(h.deps, { username: 'alice', password: STRONG_PASSWORD, isAdmin: false }, null);
    alice = await enrollTotp(h, new ApiClient(h, { userAgent: 'enrolment browser' }), 'alice', STRONG_PASSWORD);
  });
  afterEach(async () => {
    await h?.close();
  });

  const signIn = async (browser: HttpBrowser): Promise<void> => {
    h.clock.advance(30_000);
    const login = await browser.post('/api/v1/login', { username: alice.username, password: alice.password });
    expect(login.body.state, JSON.stringify(login.body)).toBe('second_factor_required');
    const second = await browser.post('/api/v1/login/second-factor', { method: 'totp', code: totpAt(alice.secret, h.clock.now()) });
    expect(second.status, JSON.stringify(second.body)).toBe(200);
  };
  const stepUp = (browser: HttpBrowser) => {
    h.clock.advance(30_000);
    return browser.post('/api/v1/session/step-up', { method: 'totp', code: totpAt(alice.secret, h.clock.now()) });
  };
  const events = async (type: string): Promise<AuditEvent[]> =>
    (await h.deps.store.events.list({ limit: 200 })).filter((e) => e.type === type);

  it('the same context continues and records nothing', async () => {
    const browser = new HttpBrowser(h, LONDON, CHROME_120);
    await signIn(browser);
    for (let i = 0; i < 3; i++) expect((await browser.get('/api/v1/session')).status).toBe(200);
    expect((await browser.gate()).status).toBe(200);
    expect(await events('session.context_changed')).toHaveLength(0);
    expect(await events('session.hijack_suspected')).toHaveLength(0);
  });

  it('low: a new address in the same country and a browser patch update continue, each recorded once', async () => {
    const browser = new HttpBrowser(h, LONDON, CHROME_120);
    await signIn(browser);
    browser.ip = LONDON_2;
    for (let i = 0; i < 3; i++) expect((await browser.get('/api/v1/session')).status).toBe(200);
    expect((await browser.gate()).status).toBe(200);
    browser.userAgent = CHROME_120_PATCH;
    expect((await browser.get('/api/v1/session')).status).toBe(200);
    expect((await browser.get('/api/v1/session')).status).toBe(200);
    const changed = await events('session.context_changed');
    expect(changed.map((e) => e.detail)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ band: 'low', reasons: ['ip_changed'], session_ip: LONDON }),
        expect.objectContaining({ band: 'low', reasons: ['ip_changed', 'browser_updated'] }),
      ]),
    );
    // Throttled: once per new value per session (the gate and the API share the cached session).
    expect(changed).toHaveLength(2);
  });

  it('medium: another country asks the API for a step-up; after it the session carries on from there', async () => {
    const browser = new HttpBrowser(h, LONDON, CHROME_120);
    await signIn(browser);
    h.clock.advance(25 * MINUTE); // London to Paris in 25 minutes: possible by air, so medium not high
    browser.ip = PARIS;
    const refused = await browser.get('/api/v1/session');
    expect(refused.status).toBe(401);
    expect(refused.body.error.code, JSON.stringify(refused.body)).toBe('step_up_required');
    expect(refused.body.error.step_up).toMatchObject({ reason: 'context_changed', reasons: ['ip_changed', 'country_changed'] });
    expect((await browser.get('/api/v1/session')).status).toBe(401);
    const stepped = await stepUp(browser);
    expect(stepped.status, JSON.stringify(stepped.body)).toBe(200);
    const after = await browser.get('/api/v1/session');
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    expect((await browser.gate()).status).toBe(200);
    const changed = await events('session.context_changed');
    expect(changed[0]).toMatchObject({ outcome: 'failure', ip: PARIS, detail: { band: 'medium', action: 'step_up' } });
  });

  it('medium through /auth/request: 401 step_up_required to /step-up, then 200 after the step-up', async () => {
    const browser = new HttpBrowser(h, LONDON, CHROME_120);
    await signIn(browser);
    expect((await browser.gate()).status).toBe(200);
    h.clock.advance(25 * MINUTE);
    browser.ip = PARIS;
    const refused = await browser.gate();
    expect(refused.status).toBe(401);
    expect(refused.body.error).toMatchObject({ code: 'step_up_required', step_up: { reason: 'context_changed' } });
    expect(refused.body.error.location).toContain('/step-up');
    expect((await stepUp(browser)).status).toBe(200);
    expect((await browser.gate()).status).toBe(200);
  });

  it('high: another browser family is revoked at once through the API, recorded with its reasons', async () => {
    const browser = new HttpBrowser(h, LONDON, CHROME_120);
    await signIn(browser);
    const thief = new HttpBrowser(h, LONDON, FIREFOX);
    for (const [k, v] of browser.jar) thief.jar.set(k, v);
    const refused = await thief.get('/api/v1/session');
    expect(refused.status).toBe(401);
    expect(refused.body.error).toMatchObject({ code: 'unauthenticated', reason: 'hijack_suspected', reasons: ['browser_family_changed'] });
    // The session is gone for its owner too: the stolen copy and the original are one session.
    expect((await browser.get('/api/v1/session')).status).toBe(401);
    const [suspected] = await events('session.hijack_suspected');
    expect(suspected).toMatchObject({ outcome: 'failure', reason: 'browser_family_changed', userAgent: FIREFOX });
    expect((await events('session.revoked')).some((e) => e.reason === 'hijack_suspected')).toBe(true);
  });

  it('high: the session cookie without its device cookie, from elsewhere in the country, is revoked', async () => {
    const browser = new HttpBrowser(h, LONDON, CHROME_120);
    await signIn(browser);
    const sessionCookie = [...browser.jar].find(([k]) => k.endsWith('twofold_session'))!;
    const thief = new HttpBrowser(h, LONDON_2, CHROME_120);
    thief.jar.set(sessionCookie[0], sessionCookie[1]);
    const refused = await thief.get('/api/v1/session');
    expect(refused.body.error).toMatchObject({ code: 'unauthenticated', reasons: ['ip_changed', 'device_missing'] });
  });

  it('high through /auth/request: impossible travel (London then Sydney a minute later) revokes', async () => {
    const browser = new HttpBrowser(h, LONDON, CHROME_120);
    await signIn(browser);
    expect((await browser.gate()).status).toBe(200);
    h.clock.advance(MINUTE);
    browser.ip = SYDNEY;
    const refused = await browser.gate();
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('unauthenticated');
    browser.ip = LONDON;
    expect((await browser.gate()).status).toBe(401);
    const [suspected] = await events('session.hijack_suspected');
    expect(suspected!.detail).toMatchObject({ band: 'high', reasons: expect.arrayContaining(['impossible_travel', 'country_changed']) });
  });

  it('access-token sessions are evaluated too: London then Paris two minutes later is revoked', async () => {
    const app = new HttpBrowser(h, LONDON, CHROME_120);
    h.clock.advance(30_000);
    const login = await app.post('/api/v1/login', { username: alice.username, password: alice.password, session_type: 'tokens' });
    const tokens = await app.post(
      '/api/v1/login/second-factor',
      { method: 'totp', code: totpAt(alice.secret, h.clock.now()) },
      { headers: { authorization: `Bearer ${login.body.pending_token}` } },
    );
    expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
    const bearer = { authorization: `Bearer ${tokens.body.access_token}` };
    expect((await app.get('/api/v1/session', { headers: bearer, cookies: false })).status).toBe(200);
    h.clock.advance(2 * MINUTE);
    app.ip = PARIS;
    app.jar.clear();
    // Two minutes is too fast for London to Paris: impossible travel, so this one is high.
    const travelled = await app.get('/api/v1/session', { headers: bearer, cookies: false });
    expect(travelled.body.error).toMatchObject({ code: 'unauthenticated', reason: 'hijack_suspected' });
  });

  it('with session.continuity.enabled: false nothing is compared', async () => {
    await h.close();
    h = await startHarness({
      listen: true,
      overrides: { trusted_proxies: ['127.0.0.1/32'], session: { continuity: { enabled: false } } },
    });
    await addUser(h.deps, { username: 'alice', password: STRONG_PASSWORD, isAdmin: false }, null);
    alice = await enrollTotp(h, new ApiClient(h, { userAgent: 'enrolment browser' }), 'alice', STRONG_PASSWORD);
    const browser = new HttpBrowser(h, LONDON, CHROME_120);
    await signIn(browser);
    browser.ip = SYDNEY;
    browser.userAgent = FIREFOX;
    expect((await browser.get('/api/v1/session')).status).toBe(200);
  });
});
