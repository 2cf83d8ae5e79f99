import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeSetup, issueSetupLinkIfNeeded } from '../../src/auth/setup.js';
import { addUser } from '../../src/auth/users.js';
import { ApiClient, enrollTotp, expectJsonError, signInWithTotp, STRONG_PASSWORD, totpAt } from '../http/client.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * What ASVS 5.0 asks of the pages that handle credentials and of the password policy, checked on
 * the real server: masked password fields that password managers can fill (V6.2.6, V6.2.7), a
 * Sign out form on every signed-in page (V7.4.4), no periodic password rotation (V6.2.10), and
 * the service's own name refused as a password (V6.1.2, V6.2.11).
 */

const DAY = 86_400_000;
const CTX = { ip: '127.0.0.1', userAgent: 'vitest' };

/** Every <input …> of a page whose name mentions "password". */
const passwordInputs = (page: string): string[] =>
  [...page.matchAll(/<input\b[^>]*>/g)].map((m) => m[0]).filter((tag) => /name="[^"]*password[^"]*"/.test(tag));

const SIGN_OUT =
  /<form class="signed-in" method="post" action="\/logout">[\s\S]*?name="_csrf" value="[A-Za-z0-9_-]{43}"[\s\S]*?Sign out<\/button>/;

describe('credential pages and the password policy (ASVS 5.0 V6.2, V7.4.4)', () => {
  let h: Harness;
  let browser: ApiClient;
  let setupLink: string;
  /** grace's browser, signed in after the clock moved 400 days on. */
  let later: ApiClient;

  const postForm = (client: ApiClient, url: string, fields: Record<string, string>) =>
    client.post(url, new URLSearchParams({ _csrf: client.csrfToken ?? '', ...fields }).toString(), {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      csrf: 'origin',
    });

  beforeAll(async () => {
    h = await startHarness();
    setupLink = (await issueSetupLinkIfNeeded(h.deps))!;
    browser = new ApiClient(h, { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0' });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('every password field is masked (type=password) and tells password managers what it holds', async () => {
    const setup = await browser.get(new URL(setupLink).pathname + new URL(setupLink).search);
    expect(setup.status).toBe(200);
    const setupFields = passwordInputs(setup.body);
    expect(setupFields).toHaveLength(2);
    await addUser(h.deps, { username: 'erin', password: STRONG_PASSWORD, isAdmin: true }, null);
    const login = await browser.get('/login');
    const loginFields = passwordInputs(login.body);
    expect(loginFields).toHaveLength(1);
    await enrollTotp(h, browser, 'erin', STRONG_PASSWORD);
    const account = await browser.get('/account');
    expect(account.status).toBe(200);
    const accountFields = passwordInputs(account.body);
    expect(accountFields).toHaveLength(3);
    for (const tag of [...setupFields, ...loginFields, ...accountFields]) {
      expect(tag).toContain('type="password"');
      expect(tag).toMatch(/autocomplete="(current|new)-password"/);
    }
    expect(loginFields[0]).toContain('autocomplete="current-password"');
    expect(accountFields.filter((tag) => tag.includes('autocomplete="new-password"'))).toHaveLength(2);
  });

  it('nothing blocks paste or password managers: no paste or copy handlers, no autocomplete=off', async () => {
    const pages = [(await browser.get('/login')).body, (await browser.get('/account')).body];
    const scripts = await Promise.all(
      ['/assets/app.js', '/assets/passkeys.js'].map(async (url) => (await browser.get(url)).body as string),
    );
    for (const text of [...pages, ...scripts]) {
      expect(text).not.toMatch(/onpaste|oncopy|ondrop|autocomplete="off"/i);
      expect(text).not.toMatch(/addEventListener\(\s*['"](paste|drop)['"]/);
      expect(text).not.toMatch(/preventDefault\(\)[^;]*paste/);
    }
  });

  it('every signed-in page carries the Sign out form: account, admin console, step-up, enrollment and the recovery codes it shows', async () => {
    for (const url of ['/account', '/admin', '/step-up']) {
      const res = await browser.get(url);
      expect(res.status, url).toBe(200);
      expect(res.body, url).toMatch(SIGN_OUT);
    }
    await addUser(h.deps, { username: 'frank', password: STRONG_PASSWORD, isAdmin: false }, null);
    const newcomer = new ApiClient(h, { userAgent: 'vitest newcomer' });
    expect((await newcomer.login('frank', STRONG_PASSWORD)).body.state).toBe('enrollment_required');
    const enroll = await newcomer.get('/enroll');
    expect(enroll.status).toBe(200);
    expect(enroll.body).toMatch(SIGN_OUT);
    const secret = /data-secret="([A-Z2-7]+)"/.exec(enroll.body)![1]!;
    const confirmed = await postForm(newcomer, '/enroll', { code: totpAt(secret, h.clock.now()) });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toContain('Save your recovery codes');
    expect(confirmed.body).toMatch(SIGN_OUT);
    // The form carries the new session's CSRF token, so signing out from this page works.
    expect(confirmed.body).toContain(`value="${newcomer.csrfToken}"`);
    const out = await postForm(newcomer, '/logout', {});
    expect(out.status).toBe(303);
    expectJsonError(await newcomer.session(), 401, 'unauthenticated');
  });

  it('a password set 400 days ago still signs in: no periodic rotation is ever demanded', async () => {
    later = new ApiClient(h, { userAgent: 'vitest later' });
    await addUser(h.deps, { username: 'grace', password: STRONG_PASSWORD, isAdmin: false }, null);
    const grace = await enrollTotp(h, later, 'grace', STRONG_PASSWORD);
    h.clock.advance(400 * DAY);
    const res = await signInWithTotp(h, later, grace);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'authenticated' });
    expect((await later.session()).body).toMatchObject({ aal: 2 });
  });

  it('refuses the name of the service as a password at setup, user creation and password change, with a clear 400', async () => {
    const fresh = await startHarness({ overrides: { public_url: 'https://login.acme-corp.example', 'totp.issuer': 'Acme Portal' } });
    try {
      const link = (await issueSetupLinkIfNeeded(fresh.deps))!;
      const token = new URL(link).searchParams.get('token')!;
      for (const password of ['Twofold2024!', 'acme-corp 2025', 'ACME PORTAL 123']) {
        await expect(completeSetup(fresh.deps, { token, username: 'root', password }, CTX)).rejects.toMatchObject({
          code: 'password_rejected',
          message: 'Your password must not be the name of this service. Choose a different one.',
        });
        await expect(addUser(fresh.deps, { username: 'ivan', password, isAdmin: false }, null)).rejects.toMatchObject({
          code: 'password_rejected',
        });
      }
      // A long passphrase that merely contains the name is as strong as any other: accepted.
      await addUser(fresh.deps, { username: 'ivan', password: 'twofold guards the acme portal gate', isAdmin: false }, null);
    } finally {
      await fresh.close();
    }
    const res = await later.post('/api/v1/account/password', { current_password: STRONG_PASSWORD, new_password: 'twofold!!2025' });
    expectJsonError(res, 400, 'password_rejected');
    expect(res.body.error.message).toBe('Your password must not be the name of this service. Choose a different one.');
  });
});
