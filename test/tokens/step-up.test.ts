import { decodeJwt } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import {
  ApiClient,
  expectJsonError,
  OTHER_STRONG_PASSWORD,
  signInWithTotp,
  totpAt,
  type ApiReply,
  type EnrolledUser,
} from '../http/client.js';
import { enrolledUser, refresh, tokenSignIn } from './support.js';

/**
 * Step-up ("sudo mode") through the API, the gate and the pages: sensitive actions need a factor
 * proven within session.sensitive_max_age (10 min by default, ASVS 5.0 V7.5), and apps can ask for
 * a fresher or stronger one.
 */

const MINUTE = 60_000;
const APP = 'https://app.example.com';
const RULES = [{ domain: 'app.example.com', path: '/admin', policy: 'two_factor', max_auth_age: '5m' }];

function expectStepUp(res: ApiReply, maxAgeS: number | null, reason = 'stale', methods = ['totp', 'recovery_code']): void {
  expectJsonError(res, 401, 'step_up_required');
  expect(res.body.error.step_up).toMatchObject({ reason, methods, max_age_s: maxAgeS });
}

describe('step-up and sensitive actions', () => {
  let h: Harness;
  let alice: EnrolledUser;
  let browser: ApiClient;

  beforeEach(async () => {
    h = await startHarness({ overrides: { access_control: { default_policy: 'two_factor', rules: RULES } } });
    alice = await enrolledUser(h);
    browser = new ApiClient(h, { userAgent: 'vitest browser' });
    expect((await signInWithTotp(h, browser, alice)).status).toBe(200);
  });
  afterEach(async () => {
    await h?.close();
  });

  const stepUpWithTotp = (client: ApiClient, options: { bearer?: string } = {}) => {
    h.clock.advance(30_000); // a TOTP step is good once
    return client.post('/api/v1/session/step-up', { method: 'totp', code: totpAt(alice.secret, h.clock.now()) }, options);
  };
  const changePassword = (client: ApiClient) =>
    client.post('/api/v1/account/password', {
      current_password: alice.password,
      new_password: OTHER_STRONG_PASSWORD,
      end_other_sessions: false,
    });

  it('sensitive actions go through right after sign-in, and are refused with step_up_required once the factor is 10 minutes old', async () => {
    expect((await browser.post('/api/v1/factors/recovery-codes')).status).toBe(200);
    h.clock.advance(10 * MINUTE + 1000);
    const before = await h.deps.store.users.findByUsername('alice');

    expectStepUp(await browser.post('/api/v1/factors/recovery-codes'), 600);
    expectStepUp(await changePassword(browser), 600);
    expectStepUp(await browser.post('/api/v1/factors/totp'), 600);
    const refused = await browser.post('/api/v1/factors/recovery-codes');
    expect(refused.body.error).toEqual({
      code: 'step_up_required',
      message: expect.any(String),
      step_up: { reason: 'stale', methods: ['totp', 'recovery_code'], max_age_s: 600, endpoint: '/api/v1/session/step-up' },
    });
    // Nothing changed: the same password hash, no new recovery codes, no pending authenticator.
    expect((await h.deps.store.users.findByUsername('alice'))?.passwordHash).toBe(before?.passwordHash);
    expect(await h.deps.store.factors.findPendingTotp(before!.id)).toBeUndefined();

    // A step-up with the authenticator makes the session fresh again (and replaces its token).
    const oldToken = browser.sessionToken;
    const stepped = await stepUpWithTotp(browser);
    expect(stepped.status, JSON.stringify(stepped.body)).toBe(200);
    expect(browser.sessionToken).not.toBe(oldToken);
    expect((await browser.post('/api/v1/factors/recovery-codes')).status).toBe(200);
    expect((await changePassword(browser)).status).toBe(200);
    expect((await browser.post('/api/v1/factors/totp')).status).toBe(200);
  });

  it('a stale session is not refreshed by mere activity: only a factor makes it fresh', async () => {
    for (let i = 0; i < 4; i++) {
      h.clock.advance(4 * MINUTE);
      expect((await browser.session()).status).toBe(200);
    }
    expectStepUp(await browser.post('/api/v1/factors/recovery-codes'), 600);
  });

  it('the sensitive window is configurable (session.sensitive_max_age)', async () => {
    await h.close();
    h = await startHarness({ overrides: { session: { sensitive_max_age: '2m' } } });
    alice = await enrolledUser(h);
    browser = new ApiClient(h);
    expect((await signInWithTotp(h, browser, alice)).status).toBe(200);
    h.clock.advance(2 * MINUTE + 1000);
    expectStepUp(await browser.post('/api/v1/factors/recovery-codes'), 120);
  });

  it('the pages send a stale session to the step-up page and back', async () => {
    h.clock.advance(11 * MINUTE);
    const form = (body: Record<string, string>) => ({
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(body).toString(),
    });
    const password = await browser.request(
      'POST',
      '/account/password',
      form({ current_password: alice.password, new_password: OTHER_STRONG_PASSWORD, confirm_password: OTHER_STRONG_PASSWORD }),
    );
    expect(password.status).toBe(303);
    expect(password.headers.location).toBe('/step-up?return_to=%2Faccount');
    const codes = await browser.request('POST', '/account/recovery-codes', form({}));
    expect(codes.status).toBe(303);
    expect(codes.headers.location).toBe('/step-up?return_to=%2Faccount');
    const enroll = await browser.get('/enroll');
    expect(enroll.status).toBe(303);
    expect(enroll.headers.location).toBe('/step-up?return_to=%2Fenroll');

    // The step-up page (its own helper's work) takes the code and returns to the account page.
    h.clock.advance(30_000);
    const stepped = await browser.request(
      'POST',
      '/step-up',
      form({ method: 'totp', code: totpAt(alice.secret, h.clock.now()), return_to: '/account' }),
    );
    expect(stepped.status).toBe(303);
    expect(stepped.headers.location).toBe('/account');
    const again = await browser.request('POST', '/account/recovery-codes', form({}));
    expect(again.status).toBe(200);
    expect(again.body).toContain('Your new recovery codes');
  });

  it('apps ask GET /api/v1/session for a requirement: max_auth_age, min_aal, phishing_resistant', async () => {
    expect((await browser.get('/api/v1/session?max_auth_age=300&min_aal=2')).status).toBe(200);
    h.clock.advance(6 * MINUTE);
    expectStepUp(await browser.get('/api/v1/session?max_auth_age=300'), 300);
    expect((await browser.get('/api/v1/session?max_auth_age=600')).status).toBe(200);
    expectStepUp(await browser.get('/api/v1/session?phishing_resistant=true'), null, 'phishing_resistant', []);
    expectJsonError(await browser.get('/api/v1/session?max_auth_age=-1'), 400, 'bad_request');
    expectJsonError(await browser.get('/api/v1/session?min_aal=3'), 400, 'bad_request');
    expect((await stepUpWithTotp(browser)).status).toBe(200);
    expect((await browser.get('/api/v1/session?max_auth_age=300')).status).toBe(200);
  });

  it('through the gate: a stale factor gets step_up_required with the step-up page, for cookies and access tokens alike', async () => {
    const app = new ApiClient(h, { userAgent: 'vitest SPA' });
    const tokens = (await tokenSignIn(h, app, alice)).reply.body;
    const ask = (client: ApiClient, credential: { bearer?: string }) =>
      client.get('/auth/request', { headers: { 'x-original-url': `${APP}/admin/keys`, 'x-original-method': 'GET' }, ...credential });
    expect((await ask(browser, {})).status).toBe(200);
    expect((await ask(app, { bearer: tokens.access_token })).status).toBe(200);

    h.clock.advance(6 * MINUTE);
    const stepUpPage = `${h.origin}/step-up?return_to=${encodeURIComponent(`${APP}/admin/keys`)}`;
    for (const res of [await ask(browser, {}), await ask(app, { bearer: tokens.access_token })]) {
      expectStepUp(res, 300);
      expect(res.body.error.location).toBe(stepUpPage);
      expect(res.headers['x-twofold-location']).toBe(stepUpPage);
    }

    // The token client steps up with its access token: no cookie, a new access token, same refresh family.
    const stepped = await stepUpWithTotp(app, { bearer: tokens.access_token });
    expect(stepped.status, JSON.stringify(stepped.body)).toBe(200);
    expect(stepped.setCookies).toEqual([]);
    expect(stepped.body).toMatchObject({ state: 'authenticated', access_token: expect.any(String), token_type: 'Bearer', expires_in: 600 });
    const fresh = decodeJwt(stepped.body.access_token);
    expect(fresh.sid).not.toBe(decodeJwt(tokens.access_token).sid);
    expect((await ask(app, { bearer: stepped.body.access_token })).status).toBe(200);
    // The old access token's session was replaced (rotated_step_up); the refresh token follows the new one.
    expect((await ask(app, { bearer: tokens.access_token })).status).toBe(401);
    const refreshed = await refresh(app, tokens.refresh_token);
    expect(refreshed.status, JSON.stringify(refreshed.body)).toBe(200);
    expect(decodeJwt(refreshed.body.access_token).sid).toBe(fresh.sid);
    expect((await ask(app, { bearer: refreshed.body.access_token })).status).toBe(200);
  });

  it('sensitive actions with an access token are refused the same way when stale', async () => {
    const app = new ApiClient(h, { userAgent: 'vitest mobile' });
    const tokens = (await tokenSignIn(h, app, alice)).reply.body;
    expect((await app.post('/api/v1/factors/recovery-codes', undefined, { bearer: tokens.access_token })).status).toBe(200);
    h.clock.advance(9 * MINUTE);
    const refreshed = (await refresh(app, tokens.refresh_token)).body;
    h.clock.advance(2 * MINUTE);
    // A refresh is not a factor: the new access token carries the same, now stale, proof.
    expectStepUp(await app.post('/api/v1/factors/recovery-codes', undefined, { bearer: refreshed.access_token }), 600);
  });
});
