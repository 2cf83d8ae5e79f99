import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { ApiClient, enrollTotp, STRONG_PASSWORD, totpAt, type EnrolledUser } from '../http/client.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * The step-up page behind the gate, without a browser: an access rule demands a factor proven in
 * the last 10 minutes; the gate sends a stale session to /step-up, which asks for a code, rotates
 * the session and returns to the protected app. (test/browser/browser-flow.test.ts walks it in Chromium.)
 */

const MINUTE = 60_000;
const APP = 'http://app.example.test';

describe('the step-up page', () => {
  let h: Harness;
  let carol: EnrolledUser;
  let browser: ApiClient;

  /** A browser-like form post: urlencoded, with the page's CSRF field and our Origin. */
  const postForm = (client: ApiClient, url: string, fields: Record<string, string>) =>
    client.post(url, new URLSearchParams({ _csrf: client.csrfToken ?? '', ...fields }).toString(), {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      csrf: 'origin',
    });

  /** What Caddy's forward_auth asks the gate before each request to the app. */
  const forwardAuth = (client: ApiClient, uri: string) =>
    client.get('/auth/forward', {
      headers: { 'x-forwarded-proto': 'http', 'x-forwarded-host': 'app.example.test', 'x-forwarded-uri': uri },
    });

  const stepUpLocation = (returnTo: string) => `${h.origin}/step-up?return_to=${encodeURIComponent(returnTo)}`;

  beforeAll(async () => {
    h = await startHarness({
      overrides: {
        redirect_domains: ['app.example.test'],
        'access_control.rules': [{ domain: 'app.example.test', path: '/admin', policy: 'two_factor', max_auth_age: '10m' }],
      },
    });
    await addUser(h.deps, { username: 'carol', password: STRONG_PASSWORD, isAdmin: false }, null);
    browser = new ApiClient(h, { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36' });
    carol = await enrollTotp(h, browser, 'carol', STRONG_PASSWORD);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('the gate sends a session whose factor is stale to /step-up, with the way back', async () => {
    expect((await forwardAuth(browser, '/admin/users')).status).toBe(200);
    h.clock.advance(11 * MINUTE);
    const res = await forwardAuth(browser, '/admin/users');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(stepUpLocation(`${APP}/admin/users`));
  });

  it('shows a form for the authenticator code, carrying the way back, for the signed-in user', async () => {
    const res = await browser.get(`/step-up?return_to=${encodeURIComponent(`${APP}/admin/users`)}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('<h1>Confirm it is you</h1>');
    expect(res.body).toContain('Code from your authenticator app');
    expect(res.body).toContain(`name="return_to" value="${APP}/admin/users"`);
    expect(res.body).toContain('Signed in as <strong>carol</strong>');
    expect(res.body).toContain(`href="/step-up?method=recovery_code&amp;return_to=${encodeURIComponent(`${APP}/admin/users`)}"`);
  });

  it('a wrong code is refused on the page, and the session stays as it was', async () => {
    const token = browser.sessionToken;
    const right = totpAt(carol.secret, h.clock.now());
    const res = await postForm(browser, '/step-up', {
      method: 'totp',
      code: right === '000000' ? '111111' : '000000',
      return_to: `${APP}/admin`,
    });
    expect(res.status).toBe(401);
    expect(res.body).toContain('That code is not valid.');
    expect(res.body).toContain('aria-invalid="true"');
    expect(browser.sessionToken).toBe(token);
    expect((await forwardAuth(browser, '/admin')).status).toBe(302);
  });

  it('the right code rotates the session and returns to the app, which the gate now lets through', async () => {
    const oldToken = browser.sessionToken!;
    const res = await postForm(browser, '/step-up', {
      method: 'totp',
      code: totpAt(carol.secret, h.clock.now()),
      return_to: `${APP}/admin/users`,
    });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`${APP}/admin/users`);
    expect(browser.sessionToken).toBeDefined();
    expect(browser.sessionToken).not.toBe(oldToken);
    expect((await forwardAuth(browser, '/admin/users')).status).toBe(200);
    // The old token ended with the rotation.
    expect((await new ApiClient(h).get('/api/v1/session', { bearer: oldToken })).status).toBe(401);
    const events = (await browser.get('/api/v1/events')).body.events as Array<{ type: string; outcome: string }>;
    expect(events.filter((e) => e.type === 'session.step_up').map((e) => e.outcome)).toEqual(['success', 'failure']);
  });

  it('the same code again is refused: a TOTP step counts once', async () => {
    const res = await postForm(browser, '/step-up', { method: 'totp', code: totpAt(carol.secret, h.clock.now()) });
    expect(res.status).toBe(401);
    expect(res.body).toContain('already used');
  });

  it('a recovery code works too, and a foreign or missing way back lands on the account page', async () => {
    h.clock.advance(MINUTE);
    const page = await browser.get('/step-up?method=recovery_code&return_to=https%3A%2F%2Fevil.example%2F');
    expect(page.status).toBe(200);
    expect(page.body).toContain('Recovery code');
    expect(page.body).not.toContain('evil.example');
    const res = await postForm(browser, '/step-up', {
      method: 'recovery_code',
      code: carol.recoveryCodes[0]!,
      return_to: 'https://app.example.test.evil.example/',
    });
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe('/account');
    const again = await postForm(browser, '/step-up', { method: 'totp', code: totpAt(carol.secret, h.clock.now() + 30_000) });
    expect(again.headers.location).toBe('/account');
  });

  it('without a session, sends the visitor to sign in with the way back (signing in is a fresh factor)', async () => {
    const visitor = new ApiClient(h);
    const get = await visitor.get(`/step-up?return_to=${encodeURIComponent(`${APP}/admin`)}`);
    expect(get.status).toBe(303);
    expect(get.headers.location).toBe(`/login?return_to=${encodeURIComponent(`${APP}/admin`)}`);
    const post = await postForm(visitor, '/step-up', { method: 'totp', code: '123456', return_to: `${APP}/admin` });
    expect(post.status).toBe(303);
    expect(post.headers.location).toBe(`/login?return_to=${encodeURIComponent(`${APP}/admin`)}`);
  });

  it('refuses a post from another site and a malformed form', async () => {
    const res = await browser.post('/step-up', 'method=totp&code=123456', {
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
    });
    expect(res.status).toBe(403);
    const bad = await postForm(browser, '/step-up', { method: 'sms', code: '123456' });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toContain('text/html');
  });
});

describe('return_to on the sign-in pages (forward-auth: portal on one host, app on another)', () => {
  let h: Harness;
  let carol: EnrolledUser;
  beforeAll(async () => {
    h = await startHarness({ overrides: { redirect_domains: ['app.example.test', '*.apps.example.test'] } });
    await addUser(h.deps, { username: 'carol', password: STRONG_PASSWORD, isAdmin: false }, null);
    carol = await enrollTotp(h, new ApiClient(h), 'carol', STRONG_PASSWORD);
  });
  afterAll(async () => {
    await h?.close();
  });

  const signIn = async (returnTo: string) => {
    h.clock.advance(30_000);
    const client = new ApiClient(h);
    const form = (url: string, fields: Record<string, string>) =>
      client.post(url, new URLSearchParams({ _csrf: client.csrfToken ?? '', ...fields }).toString(), {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        csrf: 'origin',
      });
    const login = await form('/login', { username: 'carol', password: STRONG_PASSWORD, return_to: returnTo });
    expect(login.status).toBe(303);
    const challenge = await client.get(login.headers.location as string);
    expect(challenge.status).toBe(200);
    const carried = /name="return_to" value="([^"]*)"/.exec(challenge.body)?.[1]?.replaceAll('&amp;', '&');
    const done = await form('/login/second-factor', {
      method: 'totp',
      code: totpAt(carol.secret, h.clock.now()),
      ...(carried === undefined ? {} : { return_to: carried }),
    });
    expect(done.status).toBe(303);
    return { secondFactorUrl: login.headers.location as string, landing: done.headers.location as string };
  };

  it.each([
    [`${'http://app.example.test'}/dashboard?tab=1#top`, 'http://app.example.test/dashboard?tab=1#top'],
    ['http://team.apps.example.test/x', 'http://team.apps.example.test/x'],
    ['/account?done=x', '/account?done=x'],
    [`http://app.example.test/${'a'.repeat(1500)}`, `http://app.example.test/${'a'.repeat(1500)}`],
  ])('an address within the redirect domains (%s) survives password and code', async (returnTo, expected) => {
    const { secondFactorUrl, landing } = await signIn(returnTo);
    expect(secondFactorUrl).toBe(`/login/second-factor?return_to=${encodeURIComponent(expected)}`);
    expect(landing).toBe(expected);
  });

  it.each([
    'https://evil.example/',
    '//evil.example/',
    'http://app.example.test.evil.example/',
    'http://apps.example.test/',
    'http://app.example.test\\@evil.example/',
    'http://user@app.example.test/',
    'http://app.example.test%2F@evil.example/',
    'javascript:alert(1)',
    '/\\evil.example',
  ])('anything else (%s) is dropped: the user lands on the account page', async (returnTo) => {
    const { secondFactorUrl, landing } = await signIn(returnTo);
    expect(secondFactorUrl).toBe('/login/second-factor');
    expect(landing).toBe('/account');
  });

  it('a return_to longer than the gate ever offers (2048) is a clear 400 page', async () => {
    const res = await new ApiClient(h).get(`/login?return_to=${encodeURIComponent(`http://app.example.test/${'a'.repeat(2100)}`)}`);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('text/html');
  });
});
