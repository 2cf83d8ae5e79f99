import { createServer, type Server } from 'node:http';
import { type Browser } from 'playwright-core';
import { chromiumMissing, launchChromium } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { ApiClient, enrollTotp, STRONG_PASSWORD, totpAt, type EnrolledUser } from '../http/client.js';
import { freePort, startHarness, type Harness } from '../support/harness.js';

/**
 * A single-page app on another origin uses the token API with Bearer tokens (cors.allowed_origins);
 * it never gets the use of the browser's twofold cookies. Proved with inject for the headers, and in
 * real Chromium, whose CORS checks are the ones that matter.
 */

const APP_ORIGIN = 'https://app.example.com';

describe('cors.allowed_origins (configuration)', () => {
  const load = (origins: string[]) =>
    loadConfig({ env: {}, overrides: { public_url: 'https://auth.example.com', cors: { allowed_origins: origins } } });

  it('accepts exact origins and refuses wildcards, paths and plain http off loopback', () => {
    expect(load([APP_ORIGIN, 'http://localhost:5173']).cors.allowedOrigins).toEqual([APP_ORIGIN, 'http://localhost:5173']);
    for (const bad of ['*', 'https://*.example.com', 'https://app.example.com/spa', 'app.example.com', 'http://app.example.com']) {
      expect(() => load([bad]), bad).toThrow(ConfigError);
      try {
        load([bad]);
      } catch (err) {
        expect((err as ConfigError).problems.join('\n')).toContain('cors.allowed_origins');
      }
    }
  });

  it('is off by default', () => {
    expect(load([]).cors.allowedOrigins).toEqual([]);
  });
});

describe('CORS headers on the token API', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ overrides: { cors: { allowed_origins: [APP_ORIGIN] } } });
  });
  afterAll(async () => h?.close());

  const preflight = (url: string, origin: string) =>
    h.app.inject({
      method: 'OPTIONS',
      url,
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });

  it('answers a preflight from an allowed origin, without credentials', async () => {
    const res = await preflight('/api/v1/token', APP_ORIGIN);
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(String(res.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
    expect(res.headers['access-control-max-age']).toBe('600');
    expect(res.headers['access-control-allow-credentials']).toBeUndefined();
    expect(String(res.headers.vary)).toContain('Origin');
  });

  it('gives no CORS headers to another origin, nor to account, factor and admin routes', async () => {
    const other = await preflight('/api/v1/token', 'https://evil.example.net');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    for (const url of ['/api/v1/factors/totp', '/api/v1/account/password', '/api/v1/admin/users']) {
      const res = await preflight(url, APP_ORIGIN);
      expect(res.headers['access-control-allow-origin'], url).toBeUndefined();
      expect(res.statusCode, url).toBeLessThan(500);
    }
  });

  it('accepts a cross-origin sign-in for tokens, but refuses one that carries twofold cookies', async () => {
    await addUser(h.deps, { username: 'dora', password: STRONG_PASSWORD, isAdmin: false }, null);
    const body = { username: 'dora', password: STRONG_PASSWORD, session_type: 'tokens' };
    const plain = await h.app.inject({ method: 'POST', url: '/api/v1/login', headers: { origin: APP_ORIGIN }, payload: body });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['access-control-allow-origin']).toBe(APP_ORIGIN);

    const withCookie = await h.app.inject({
      method: 'POST',
      url: '/api/v1/login',
      headers: { origin: APP_ORIGIN, cookie: `twofold_session=${'A'.repeat(43)}` },
      payload: body,
    });
    expect(withCookie.statusCode).toBe(403);
    expect(withCookie.json().error.code).toBe('csrf_failed');

    const elsewhere = await h.app.inject({
      method: 'POST',
      url: '/api/v1/login',
      headers: { origin: 'https://evil.example.net' },
      payload: body,
    });
    expect(elsewhere.statusCode).toBe(403);
  });
});

const noBrowser = chromiumMissing('the CORS browser test');

describe.skipIf(noBrowser)('a single-page app on another origin, in real Chromium', () => {
  let h: Harness;
  let browser: Browser;
  const apps: Server[] = [];
  let appOrigin = '';
  let otherOrigin = '';
  let erin: EnrolledUser;

  /** A page of its own origin: the SPA shell the script runs in. */
  async function servePage(): Promise<string> {
    const port = await freePort();
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>SPA</title><h1>SPA</h1>');
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    apps.push(server);
    return `http://127.0.0.1:${port}`;
  }

  beforeAll(async () => {
    appOrigin = await servePage();
    otherOrigin = await servePage();
    h = await startHarness({ listen: true, realClock: true, overrides: { cors: { allowed_origins: [appOrigin] } } });
    await addUser(h.deps, { username: 'erin', password: STRONG_PASSWORD, isAdmin: false }, null);
    erin = await enrollTotp(h, new ApiClient(h), 'erin', STRONG_PASSWORD);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await Promise.all(apps.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  it('signs in for tokens, refreshes and reads its session from an allowed origin', async () => {
    const page = await browser.newPage();
    await page.goto(`${appOrigin}/`);
    // Enrollment spent the current step; the next one is within the accepted window.
    const code = totpAt(erin.secret, Date.now() + 30_000);
    const result = await page.evaluate(
      async ({ api, username, password, code }) => {
        const json = { 'content-type': 'application/json' };
        const body = async (response: Response): Promise<any> => response.json();
        const login = await body(
          await fetch(`${api}/api/v1/login`, {
            method: 'POST',
            headers: json,
            body: JSON.stringify({ username, password, session_type: 'tokens' }),
          }),
        );
        const pair = await body(
          await fetch(`${api}/api/v1/login/second-factor`, {
            method: 'POST',
            headers: { ...json, authorization: `Bearer ${login.pending_token}` },
            body: JSON.stringify({ method: 'totp', code }),
          }),
        );
        const refreshed = await body(
          await fetch(`${api}/api/v1/token`, {
            method: 'POST',
            headers: json,
            body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: pair.refresh_token }),
          }),
        );
        const session = await fetch(`${api}/api/v1/session`, { headers: { authorization: `Bearer ${refreshed.access_token}` } });
        // With credentials the browser itself refuses the answer: twofold never allows them.
        const withCredentials = await fetch(`${api}/.well-known/jwks.json`, { credentials: 'include' }).then(
          () => 'read',
          (err: Error) => err.name,
        );
        return {
          login: login.state,
          pair: pair.state,
          rotated: refreshed.refresh_token !== pair.refresh_token,
          session: session.status,
          user: (await body(session)).user?.username,
          withCredentials,
        };
      },
      { api: h.baseUrl, username: 'erin', password: STRONG_PASSWORD, code },
    );
    expect(result).toEqual({
      login: 'second_factor_required',
      pair: 'authenticated',
      rotated: true,
      session: 200,
      user: 'erin',
      withCredentials: 'TypeError',
    });
    await page.close();
  });

  it('cannot read the token API from an origin that is not allowed', async () => {
    const page = await browser.newPage();
    await page.goto(`${otherOrigin}/`);
    const outcome = await page.evaluate(async (api) => {
      try {
        await fetch(`${api}/.well-known/jwks.json`);
        return 'read';
      } catch (err) {
        return (err as Error).name;
      }
    }, h.baseUrl);
    expect(outcome).toBe('TypeError');
    await page.close();
  });
});
