import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { buildReverseProxy } from '../../src/http/proxy/reverse-proxy.js';
import { freePort, startHarness, type Harness } from '../support/harness.js';
import {
  Browser,
  enrolledUser,
  IDENTITY_HEADERS,
  openWebSocket,
  portalLocation,
  send,
  sendRaw,
  sleep,
  startEchoUpstream,
  type Authenticator,
  type EchoUpstream,
} from './support.js';

/**
 * The built-in reverse proxy (`twofold serve --upstream ...`) listening on its own port in front of
 * a real app: the same gate as forward-auth, plus what only a proxy can do itself: stream bodies,
 * pass WebSockets after the gate check, and keep twofold's own cookies from the app.
 */

const RULES = [
  { path: '/health', policy: 'bypass' },
  { path: '/denied', policy: 'deny' },
  { path: '/sudo', policy: 'two_factor', max_auth_age: '2s' },
];

describe('the built-in reverse proxy in front of an app', () => {
  let h: Harness;
  let upstream: EchoUpstream;
  let proxy: FastifyInstance | undefined;
  let port: number;
  let app: (path: string) => string;
  let alice: { browser: Browser; authenticator: Authenticator };
  /** Alice signed in with password + TOTP (her enrollment session stays in alice.browser). */
  let signedIn: Browser;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    upstream = await startEchoUpstream();
    port = await freePort();
    app = (path) => `http://127.0.0.1:${port}${path}`;
    h = await startHarness({
      listen: true,
      realClock: true,
      overrides: {
        trusted_proxies: ['127.0.0.1'],
        proxy: { upstream: upstream.url, port, host: '127.0.0.1' },
        access_control: { default_policy: 'two_factor', rules: RULES },
      },
    });
    proxy = await buildReverseProxy(h.deps, { logger: false });

    await proxy.listen({ host: '127.0.0.1', port });
    alice = await enrolledUser(h, 'alice', { isAdmin: true, email: 'alice@example.com', displayName: 'Alice Liddell' });
    signedIn = new Browser(h);
    await signedIn.signIn('alice', alice.authenticator);
  });

  afterAll(async () => {
    for (const socket of sockets) socket.terminate();
    await proxy?.close();
    await h?.close();
    await upstream?.close();
  });

  it('sends a visitor without a session to the sign-in page (a POST gets the 401 with the address)', async () => {
    const before = upstream.received.length;
    const get = await send(port, 'GET', '/app/page?x=1&y=two');
    expect(get.status).toBe(302);
    expect(get.headers.location).toBe(portalLocation(h, '/login', app('/app/page?x=1&y=two')));
    const post = await send(port, 'POST', '/app/form', { headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect(post.status).toBe(401);
    expect(post.json()).toMatchObject({ error: { code: 'unauthenticated', location: portalLocation(h, '/login', app('/app/form')) } });
    expect(upstream.received.length).toBe(before);
  });

  it('lets a bypass path through without a session, and a forged identity never reaches the app', async () => {
    const res = await send(port, 'GET', '/health', {
      headers: { 'Remote-User': 'admin', 'Remote-Groups': 'admins', 'Remote-Whatever': 'x' },
    });
    expect(res.status).toBe(200);
    expect(res.json().url).toBe('/health');
    expect(Object.keys(res.json().headers).filter((name) => name.startsWith('remote-'))).toEqual([]);
  });

  it('after password + TOTP, the app receives the identity, never the forged one nor twofold cookies', async () => {
    const browser = signedIn;
    const res = await send(port, 'GET', '/app/dashboard?tab=1', {
      headers: {
        cookie: `app_theme=dark; ${browser.cookieHeader()}; app_lang=en`,
        'Remote-User': 'mallory',
        'Remote-Groups': 'admins,root',
        Remote_User: 'mallory',
      },
    });
    expect(res.status).toBe(200);
    const seen = res.json();
    expect(seen.url).toBe('/app/dashboard?tab=1');
    expect(seen.headers).toMatchObject({
      'remote-user': 'alice',
      'remote-email': 'alice@example.com',
      'remote-name': 'Alice Liddell',
      'remote-groups': 'admins',
      'remote-session': await browser.sessionId(),
      'remote-aal': '2',
    });
    expect(
      Object.keys(seen.headers)
        .filter((name) => /^remote[-_]/.test(name))
        .sort(),
    ).toEqual([...IDENTITY_HEADERS].sort());
    // The app's own cookies pass; twofold's session and CSRF cookies do not.
    expect(seen.headers.cookie).toBe('app_theme=dark; app_lang=en');
    const onlyOurs = await send(port, 'GET', '/app', { headers: { cookie: browser.cookieHeader() } });
    expect(onlyOurs.json().headers.cookie).toBeUndefined();
    // Signed in with the session token as a Bearer (API clients): the app gets the identity, not the token.
    const bearer = await send(port, 'GET', '/app', { headers: { authorization: `Bearer ${browser.sessionToken}` } });
    expect(bearer.status).toBe(200);
    expect(bearer.json().headers).toMatchObject({ 'remote-user': 'alice' });
    expect(bearer.json().headers.authorization).toBeUndefined();
    // The app's own Authorization scheme, next to the session cookie, passes untouched.
    const basic = await send(port, 'GET', '/app', { headers: { cookie: browser.cookieHeader(), authorization: 'Basic YXBwOmFwcA==' } });
    expect(basic.json().headers).toMatchObject({ 'remote-user': 'alice', authorization: 'Basic YXBwOmFwcA==' });

    expect((await send(port, 'GET', '/denied', { headers: { cookie: browser.cookieHeader() } })).status).toBe(403);
  });

  it('streams a large POST body through intact', async () => {
    const browser = signedIn;
    const body = randomBytes(3 * 1024 * 1024 + 17);
    const res = await send(port, 'POST', '/app/upload', {
      headers: { cookie: browser.cookieHeader(), 'content-type': 'application/octet-stream' },
      body,
    });
    expect(res.status, res.body.slice(0, 200)).toBe(200);
    expect(res.json()).toMatchObject({
      method: 'POST',
      bodyBytes: body.length,
      bodySha256: createHash('sha256').update(body).digest('hex'),
    });
    const json = JSON.stringify({ items: Array.from({ length: 20_000 }, (_, i) => ({ i, name: `item ${i}` })) });
    const put = await send(port, 'PUT', '/app/items', {
      headers: { cookie: browser.cookieHeader(), 'content-type': 'application/json' },
      body: json,
    });
    expect(put.json()).toMatchObject({
      method: 'PUT',
      bodyBytes: Buffer.byteLength(json),
      bodySha256: createHash('sha256').update(json).digest('hex'),
    });
  });

  it('passes a WebSocket after the gate check, with the identity and without twofold cookies', async () => {
    const browser = signedIn;
    const before = upstream.upgrades.length;
    const ok = await openWebSocket(`ws://127.0.0.1:${port}/ws/chat`, {
      cookie: `app_theme=dark; ${browser.cookieHeader()}`,
      'Remote-User': 'mallory',
      Remote_User: 'mallory',
    });
    expect(ok).toMatchObject({ opened: true, reply: 'echo:hello' });
    if (ok.opened) sockets.push(ok.socket);
    expect(upstream.upgrades.length).toBe(before + 1);
    const seen = upstream.upgrades.at(-1)!;
    expect(seen).toMatchObject({ 'remote-user': 'alice', 'remote-aal': '2', cookie: 'app_theme=dark' });
    expect(seen.remote_user).toBeUndefined();

    // Without a session the upgrade is answered with the sign-in redirect and never reaches the app.
    const refused = await openWebSocket(`ws://127.0.0.1:${port}/ws/chat`, { 'Remote-User': 'alice' });
    expect(refused).toEqual({ opened: false, status: 302, location: portalLocation(h, '/login', app('/ws/chat')) });
    expect(upstream.upgrades.length).toBe(before + 1);

    // A bypass path needs no session, and no cookie at all (a request without one used to crash the upstream connection).
    const open = await openWebSocket(`ws://127.0.0.1:${port}/health/ws`, {}, 'ping');
    expect(open).toMatchObject({ opened: true, reply: 'echo:ping' });
    if (open.opened) sockets.push(open.socket);
  });

  it('turns a revoked session away at once: revoked from another session, or signed out', async () => {
    const browser = new Browser(h);
    await browser.signIn('alice', alice.authenticator);
    const cookie = browser.cookieHeader();
    expect((await send(port, 'GET', '/app', { headers: { cookie } })).status).toBe(200);
    expect((await alice.browser.api('DELETE', `/api/v1/sessions/${await browser.sessionId()}`)).status).toBe(204);
    const after = await send(port, 'GET', '/app', { headers: { cookie } });
    expect(after.status).toBe(302);
    expect(after.headers.location).toBe(portalLocation(h, '/login', app('/app')));

    const kept = alice.browser.cookieHeader();
    expect((await send(port, 'GET', '/app', { headers: { cookie: kept } })).status).toBe(200);
    expect((await alice.browser.api('POST', '/api/v1/logout')).status).toBe(204);
    expect((await send(port, 'GET', '/app', { headers: { cookie: kept } })).status).toBe(302);
  });

  it('sends a stale factor to the step-up page; after step-up the new session gets through', async () => {
    const { browser, authenticator } = await enrolledUser(h, 'bob');
    const oldCookie = browser.cookieHeader();
    await sleep(2_200);
    const stale = await send(port, 'GET', '/sudo/panel?tab=keys', { headers: { cookie: oldCookie } });
    expect(stale.status).toBe(302);
    expect(stale.headers.location).toBe(portalLocation(h, '/step-up', app('/sudo/panel?tab=keys')));
    const stalePost = await send(port, 'POST', '/sudo/panel', {
      headers: { cookie: oldCookie, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(stalePost.status).toBe(401);
    expect(stalePost.json().error).toMatchObject({ code: 'step_up_required', location: portalLocation(h, '/step-up', app('/sudo/panel')) });

    await browser.stepUp(authenticator);
    const fresh = await send(port, 'GET', '/sudo/panel?tab=keys', { headers: { cookie: browser.cookieHeader() } });
    expect(fresh.status).toBe(200);
    expect(fresh.json().headers).toMatchObject({ 'remote-user': 'bob', 'remote-session': await browser.sessionId() });
    expect((await send(port, 'GET', '/app', { headers: { cookie: oldCookie } })).status).toBe(302);
  });

  it('judges the path the app will serve: encoded and dotted spellings are normalized, ambiguous ones refused', async () => {
    const before = upstream.received.length;
    // "/health/../admin" is /admin, not a health check; "/%64enied" is /denied.
    const dotted = await sendRaw(port, `GET /health/../admin HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`);
    expect(dotted.status).toBe(302);
    expect(dotted.head).toContain(`return_to=${encodeURIComponent(app('/admin'))}`);
    expect((await send(port, 'GET', '/health/%2e%2e/admin')).status).toBe(302);
    // A dot segment behind an encoded slash means different paths to different apps: refused.
    expect((await send(port, 'GET', '/health/..%2Fadmin')).status).toBe(400);
    expect((await send(port, 'GET', '/health%2F..%2Fadmin')).status).toBe(400);
    expect((await sendRaw(port, `GET //evil.example/x HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)).status).toBe(400);
    expect(upstream.received.length).toBe(before);
    // The same path spelled with encoded unreserved characters is the same path.
    expect((await send(port, 'GET', '/%68ealth')).status).toBe(200);

    const session = (await enrolledUser(h, 'carol')).browser.cookieHeader();
    expect((await send(port, 'GET', '/%64enied', { headers: { cookie: session } })).status).toBe(403);
    // Huge or odd headers: refused, never a 500.
    const huge = await send(port, 'GET', '/app', { headers: { cookie: `${session}; big=${'b'.repeat(20_000)}` } });
    expect(huge.status).toBeGreaterThanOrEqual(400);
    expect(huge.status).toBeLessThan(500);
    for (const host of ['127.0.0.1?', 'health@127.0.0.1', '127.0.0.1\\health#']) {
      const res = await sendRaw(port, `GET /admin HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(res.status, host).toBeGreaterThanOrEqual(300);
      expect(res.status, host).toBeLessThan(500);
    }
  });
});
