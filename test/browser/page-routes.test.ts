import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSetupLinkIfNeeded } from '../../src/auth/setup.js';
import { addUser } from '../../src/auth/users.js';
import { loadConfig } from '../../src/config.js';
import { html } from '../../src/http/pages/html.js';
import { returnAddress, safeReturnTo } from '../../src/http/pages/page-support.js';
import { startHarness, type Harness } from '../support/harness.js';

/** The pages' guards without a browser: escaping, redirects, the setup link, assets, error pages. */

describe('html`` escapes what it interpolates', () => {
  it('escapes text and attributes, keeps nested templates, drops null and false', () => {
    const name = `<script>alert("x")</script>&'`;
    expect(html`<p title="${name}">${name}</p>`.value).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</p>',
    );
    const items = ['a<', 'b'].map((item) => html`<li>${item}</li>`);
    // prettier-ignore
    expect(html`<ul>${items}</ul>`.value).toBe('<ul><li>a&lt;</li><li>b</li></ul>');
    expect(html`${null}${undefined}${false}${0}`.value).toBe('0');
  });
});

describe('safeReturnTo: only a local path', () => {
  it.each(['/account', '/account?done=x', '/enroll#top'])('accepts %s', (path) => expect(safeReturnTo(path)).toBe(path));
  it.each(['//evil.example', '/\\evil.example', '/\t/evil.example', 'https://evil.example/', 'account', '/a b', '/a\\b', '', 42])(
    'refuses %j',
    (value) => expect(safeReturnTo(value)).toBeUndefined(),
  );
});

describe('returnAddress: a local path, or an address within the redirect domains', () => {
  const config = loadConfig({
    env: {},
    overrides: { public_url: 'https://auth.example.com', cookie_domain: 'example.com', log_level: 'silent' },
  });
  it.each([
    ['/account', '/account'],
    ['/account?done=x', '/account?done=x'],
    ['/enroll#top', '/enroll#top'],
    ['https://auth.example.com/account', '/account'],
    ['https://app.example.com/a?b=c', 'https://app.example.com/a?b=c'],
    ['https://example.com/', 'https://example.com/'],
  ])('accepts %s as %s', (value, expected) => expect(returnAddress(config, value)).toBe(expected));
  it.each([
    '//evil.example',
    '/\\evil.example',
    '/\t/evil.example',
    'https://evil.example/',
    'https://example.com.evil.example/',
    'http://app.example.com/',
    'https://app.example.com%2F@evil.example/',
    'account',
    '/a b',
    '/a\\b',
    '',
    42,
    `https://app.example.com/${'a'.repeat(2100)}`,
  ])('refuses %j', (value) => expect(returnAddress(config, value)).toBeUndefined());
});

describe('page routes', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('sends a visitor without a session to sign in, then back', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/account?done=session_revoked' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/login?return_to=%2Faccount%3Fdone%3Dsession_revoked');
    expect((await h.app.inject({ method: 'GET', url: '/' })).headers.location).toBe('/login');
  });

  it('before the first user exists, the sign-in page points to the setup link; after, never again', async () => {
    const fresh = await startHarness();
    try {
      const before = await fresh.app.inject({ method: 'GET', url: '/login' });
      expect(before.body).toContain('There are no accounts yet.');
      await addUser(fresh.deps, { username: 'dora', password: 'correct horse battery staple 42', isAdmin: true }, null);
      const after = await fresh.app.inject({ method: 'GET', url: '/login?notice=signed_out' });
      expect(after.body).not.toContain('There are no accounts yet.');
      expect(after.body).toContain('You are signed out.');
    } finally {
      await fresh.close();
    }
  });

  it('drops a foreign return_to and reflects no notice text', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/login?return_to=//evil.example&notice=%3Cb%3Ehi' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).not.toContain('evil.example');
    expect(res.body).not.toContain('<b>hi');
    expect(res.body).toContain('autocomplete="current-password"');
    const signedOut = await h.app.inject({ method: 'GET', url: '/login?notice=signed_out' });
    expect(signedOut.body).toContain('You are signed out.');
  });

  it('explains a dead setup link', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/setup?token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
    expect(res.statusCode).toBe(410);
    expect(res.body).toContain('Restart twofold to print a new setup link');
  });

  it('re-renders the setup form with the refusal next to it', async () => {
    const token = new URL((await issueSetupLinkIfNeeded(h.deps))!).searchParams.get('token')!;
    const res = await h.app.inject({
      method: 'POST',
      url: '/setup',
      headers: { origin: h.origin, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ token, username: 'root', password: 'password', confirm_password: 'password' }).toString(),
    });
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('This password is too common');
    expect(res.body).toContain('value="root"');
  });

  it('refuses a form post from another site', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/logout', headers: { origin: 'https://evil.example' }, payload: '' });
    expect(res.statusCode).toBe(403);
  });

  it('serves only the allow-listed assets, cacheable', async () => {
    const css = await h.app.inject({ method: 'GET', url: '/assets/app.css' });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toContain('text/css');
    expect(css.headers['cache-control']).toBe('public, max-age=300');
    const js = await h.app.inject({ method: 'GET', url: '/assets/app.js' });
    expect(js.headers['content-type']).toContain('text/javascript');
    for (const url of ['/assets/html.ts', '/assets/..%2Fhtml.ts', '/assets/constructor']) {
      const res = await h.app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(404);
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('shows a styled error page for an unknown page', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/no-such-page' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('There is no page here.');
    expect(res.body).toContain('/assets/app.css');
  });
});
