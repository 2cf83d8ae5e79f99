import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startHarness, type Harness } from '../support/harness.js';
import {
  Browser,
  enrolledUser,
  fillTemplate,
  findBinary,
  IDENTITY_HEADERS,
  openWebSocket,
  portalLocation,
  send,
  sendRaw,
  sleep,
  startEchoUpstream,
  startProcess,
  type Authenticator,
  type EchoUpstream,
  type RunningProcess,
} from './support.js';

/**
 * A real Caddy, configured by docs/examples/Caddyfile, in front of a real app, with twofold
 * answering its forward_auth requests at /auth/forward. Checked from outside: what the visitor
 * gets back, and what the app received.
 */

const INSTALL_HINT = 'caddy is not installed: apt-get install caddy (Debian/Ubuntu) or see https://caddyserver.com/docs/install';
const CADDY = findBinary('caddy', ['version']);

const RULES = [
  { path: '/health', policy: 'bypass' },
  { path: '/intranet', networks: ['10.0.0.0/8'], policy: 'bypass' },
  { path: '/api/public', methods: ['GET', 'HEAD'], policy: 'bypass' },
  { path: '/denied', policy: 'deny' },
  { path: '/sudo', policy: 'two_factor', max_auth_age: '2s' },
];

if (!CADDY && process.env.CI) {
  describe('Caddy forward_auth in front of an app', () => {
    it('has caddy available in CI', () => {
      throw new Error(INSTALL_HINT);
    });
  });
} else if (!CADDY) {
  console.warn(`test/gate/caddy.test.ts skipped: ${INSTALL_HINT}`);
  describe('Caddy forward_auth in front of an app', () => {
    it.skip(`skipped: ${INSTALL_HINT}`, () => undefined);
  });
} else {
  describe('Caddy forward_auth in front of an app (docs/examples/Caddyfile)', () => {
    let h: Harness;
    let upstream: EchoUpstream;
    let caddy: RunningProcess | undefined;
    let home: string;
    let port: number;
    let app: (path: string) => string;
    let alice: { browser: Browser; authenticator: Authenticator };
    /** Alice signed in with password + TOTP (her enrollment session stays in alice.browser). */
    let signedIn: Browser;

    beforeAll(async () => {
      upstream = await startEchoUpstream();
      h = await startHarness({
        listen: true,
        realClock: true,
        overrides: {
          trusted_proxies: ['127.0.0.1'],
          redirect_domains: ['127.0.0.1'],
          access_control: { default_policy: 'two_factor', rules: RULES },
        },
      });
      home = mkdtempSync(join(tmpdir(), 'twofold-caddy-'));
      for (const dir of ['config', 'data', 'cache', 'storage']) mkdirSync(join(home, dir));
      port = await freePort();
      app = (path) => `http://127.0.0.1:${port}${path}`;
      const caddyfile = join(home, 'Caddyfile');
      writeFileSync(
        caddyfile,
        fillTemplate('Caddyfile', {
          SITE: `http://:${port}`,
          TWOFOLD: new URL(h.baseUrl).host,
          UPSTREAM: upstream.hostPort,
          STORAGE: join(home, 'storage'),
        }),
      );
      // Caddy writes its autosave and data under HOME/XDG dirs: all inside the temp directory.
      const env = {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        XDG_CONFIG_HOME: join(home, 'config'),
        XDG_DATA_HOME: join(home, 'data'),
        XDG_CACHE_HOME: join(home, 'cache'),
      };
      caddy = await startProcess(CADDY, ['run', '--config', caddyfile, '--adapter', 'caddyfile'], { env, cwd: home, port });
      alice = await enrolledUser(h, 'alice', { isAdmin: true, email: 'alice@example.com', displayName: 'Alice Liddell' });
      signedIn = new Browser(h);
      await signedIn.signIn('alice', alice.authenticator);
    });

    afterAll(async () => {
      await caddy?.stop();
      await h?.close();
      await upstream?.close();
      if (home) rmSync(home, { recursive: true, force: true });
    });

    const expectStatus = (res: { status: number; body: string }, status: number) =>
      expect(res.status, `${res.body.slice(0, 300)}\n--- caddy log ---\n${caddy?.output().slice(-2000)}`).toBe(status);

    it('needs the documented route block: without it Caddy 2.6 runs request_header after forward_auth', () => {
      const adapt = (caddyfile: string): string => {
        const file = join(home, 'order-check.Caddyfile');
        writeFileSync(file, caddyfile);
        const out = spawnSync(CADDY, ['adapt', '--config', file, '--adapter', 'caddyfile'], {
          encoding: 'utf8',
          env: { HOME: home, PATH: process.env.PATH },
        });
        expect(out.status, out.stderr).toBe(0);
        return out.stdout;
      };
      /** The handlers in the order Caddy runs them (into subroutes, not into forward_auth's own response handling). */
      const order = (json: string): string[] => {
        type Handler = {
          handler: string;
          routes?: Array<{ handle?: Handler[] }>;
          rewrite?: { uri?: string };
          request?: { delete?: string[] };
        };
        const walk = (handlers: Handler[]): string[] =>
          handlers.flatMap((h) => {
            if (h.handler === 'subroute') return (h.routes ?? []).flatMap((r) => walk(r.handle ?? []));
            if (h.handler === 'headers' && h.request?.delete) return ['delete Remote-*'];
            if (h.handler === 'reverse_proxy') return [h.rewrite?.uri === '/auth/forward' ? 'forward_auth' : 'reverse_proxy'];
            return [h.handler];
          });
        const config = JSON.parse(json) as { apps: { http: { servers: Record<string, { routes: Array<{ handle: Handler[] }> }> } } };
        return Object.values(config.apps.http.servers).flatMap((server) => server.routes.flatMap((r) => walk(r.handle)));
      };
      const site = (body: string) => `http://:1 {\n${body}\n}\n`;
      const directives = `request_header -Remote-*\nforward_auth 127.0.0.1:2 {\nuri /auth/forward\ncopy_headers Remote-User\n}\nreverse_proxy 127.0.0.1:3`;
      // Without route: the delete runs after forward_auth, wiping the identity it just copied.
      expect(order(adapt(site(directives)))).toEqual(['forward_auth', 'delete Remote-*', 'reverse_proxy']);
      // With route (as in docs/examples/Caddyfile): as written.
      expect(order(adapt(site(`route {\n${directives}\n}`)))).toEqual(['delete Remote-*', 'forward_auth', 'reverse_proxy']);
    });

    it('sends a visitor without a session to the sign-in page (a form post gets the 401 with the address)', async () => {
      const before = upstream.received.length;
      const get = await send(port, 'GET', '/app/page?x=1&y=two');
      expectStatus(get, 302);
      expect(get.headers.location).toBe(portalLocation(h, '/login', app('/app/page?x=1&y=two')));

      const post = await send(port, 'POST', '/app/form', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
      expectStatus(post, 401);
      expect(post.headers['x-twofold-location']).toBe(portalLocation(h, '/login', app('/app/form')));
      expect(post.json()).toMatchObject({ error: { code: 'unauthenticated', location: portalLocation(h, '/login', app('/app/form')) } });
      expect(upstream.received.length).toBe(before);
    });

    it('lets a bypass path through without a session, and a forged identity never reaches the app', async () => {
      const res = await send(port, 'GET', '/health', {
        headers: {
          'Remote-User': 'admin',
          'Remote-Groups': 'admins',
          'Remote-AAL': '2',
          'Remote-Jwt': 'forged',
          'Remote-Anything': 'forged',
          Remote_User: 'admin',
          remote_groups: 'admins',
        },
      });
      expectStatus(res, 200);
      const seen = res.json();
      expect(seen.url).toBe('/health');
      // copy_headers (Caddy 2.6) sets each listed header to twofold's value, empty when there is none;
      // request_header -Remote-* drops the rest. Either way no client value survives.
      for (const [name, value] of Object.entries(seen.headers as Record<string, string>)) {
        if (/^remote[-_]/.test(name)) expect(value, name).toBe('');
      }
    });

    it('judges the URL and method Caddy saw, whatever forwarding headers the client sends', async () => {
      const before = upstream.received.length;
      // X-Original-URL is nginx's header: a client sending it to Caddy does not choose what is judged.
      const spoofedUrl = await send(port, 'GET', '/app/secret', {
        headers: { 'X-Original-URL': app('/health'), 'X-Original-Method': 'GET' },
      });
      expectStatus(spoofedUrl, 302);
      expect(spoofedUrl.headers.location).toBe(portalLocation(h, '/login', app('/app/secret')));
      // Caddy overwrites X-Forwarded-Uri / -Method with the real ones.
      const spoofedUri = await send(port, 'GET', '/app/secret', {
        headers: { 'X-Forwarded-Uri': '/health', 'X-Forwarded-Host': 'elsewhere.example' },
      });
      expectStatus(spoofedUri, 302);
      expect(spoofedUri.headers.location).toBe(portalLocation(h, '/login', app('/app/secret')));
      const spoofedMethod = await send(port, 'POST', '/api/public/items', {
        headers: { 'X-Forwarded-Method': 'GET', 'X-Original-Method': 'GET', 'content-type': 'application/json' },
        body: '{}',
      });
      expectStatus(spoofedMethod, 401);
      expect(upstream.received.length).toBe(before);
      // Caddy replaces a client's X-Forwarded-For (it trusts no proxies by default): a networks rule sees the real address.
      const spoofedIp = await send(port, 'GET', '/intranet/wiki', { headers: { 'X-Forwarded-For': '10.1.2.3' } });
      expectStatus(spoofedIp, 302);
      expect(upstream.received.length).toBe(before);
      // The real GET is a bypass.
      expectStatus(await send(port, 'GET', '/api/public/items'), 200);
    });

    it('after password + TOTP through the API, the app receives who is signed in (and only that)', async () => {
      const browser = signedIn;
      const sessionId = await browser.sessionId();

      const res = await send(port, 'GET', '/app/dashboard', {
        headers: {
          cookie: browser.cookieHeader(),
          'Remote-User': 'mallory',
          'Remote-Groups': 'admins,root',
          'Remote-Extra': 'forged',
          Remote_User: 'mallory',
        },
      });
      expectStatus(res, 200);
      const seen = res.json();
      expect(seen.url).toBe('/app/dashboard');
      expect(seen.headers).toMatchObject({
        'remote-user': 'alice',
        'remote-email': 'alice@example.com',
        'remote-name': 'Alice Liddell',
        'remote-groups': 'admins',
        'remote-session': sessionId,
        'remote-aal': '2',
      });
      expect(Math.abs(Number(seen.headers['remote-auth-time']) - Date.now() / 1000)).toBeLessThan(120);
      for (const name of Object.keys(seen.headers)) if (/^remote[-_]/.test(name)) expect(IDENTITY_HEADERS, name).toContain(name);

      expectStatus(await send(port, 'GET', '/denied', { headers: { cookie: browser.cookieHeader() } }), 403);
      const body = Buffer.alloc(256 * 1024, 'twofold-');
      const post = await send(port, 'POST', '/app/upload', {
        headers: { cookie: browser.cookieHeader(), 'content-type': 'application/octet-stream' },
        body,
      });
      expectStatus(post, 200);
      expect(post.json()).toMatchObject({ method: 'POST', bodyBytes: body.length });
    });

    it('passes a WebSocket for a signed-in user, with the identity; refuses the upgrade without a session', async () => {
      const browser = signedIn;
      const before = upstream.upgrades.length;
      const ok = await openWebSocket(`ws://127.0.0.1:${port}/ws/chat`, { cookie: browser.cookieHeader(), 'Remote-User': 'mallory' });
      expect(ok).toMatchObject({ opened: true, reply: 'echo:hello' });
      if (ok.opened) ok.socket.terminate();
      expect(upstream.upgrades.at(-1)).toMatchObject({ 'remote-user': 'alice', 'remote-aal': '2' });
      const refused = await openWebSocket(`ws://127.0.0.1:${port}/ws/chat`, { 'Remote-User': 'alice' });
      expect(refused).toEqual({ opened: false, status: 302, location: portalLocation(h, '/login', app('/ws/chat')) });
      expect(upstream.upgrades.length).toBe(before + 1);
    });

    it('turns a revoked session away at once: revoked from another session, or signed out', async () => {
      const browser = new Browser(h);
      await browser.signIn('alice', alice.authenticator);
      const cookie = browser.cookieHeader();
      expectStatus(await send(port, 'GET', '/app', { headers: { cookie } }), 200);

      expect((await alice.browser.api('DELETE', `/api/v1/sessions/${await browser.sessionId()}`)).status).toBe(204);
      const after = await send(port, 'GET', '/app', { headers: { cookie } });
      expectStatus(after, 302);
      expect(after.headers.location).toBe(portalLocation(h, '/login', app('/app')));

      const kept = alice.browser.cookieHeader();
      expectStatus(await send(port, 'GET', '/app', { headers: { cookie: kept } }), 200);
      expect((await alice.browser.api('POST', '/api/v1/logout')).status).toBe(204);
      expectStatus(await send(port, 'GET', '/app', { headers: { cookie: kept } }), 302);
    });

    it('sends a stale factor to the step-up page; after step-up the new session gets through', async () => {
      const { browser, authenticator } = await enrolledUser(h, 'bob');
      const oldCookie = browser.cookieHeader();
      await sleep(2_200);

      const stale = await send(port, 'GET', '/sudo/panel?tab=keys', { headers: { cookie: oldCookie } });
      expectStatus(stale, 302);
      expect(stale.headers.location).toBe(portalLocation(h, '/step-up', app('/sudo/panel?tab=keys')));
      expectStatus(await send(port, 'GET', '/app', { headers: { cookie: oldCookie } }), 200);

      await browser.stepUp(authenticator);
      const fresh = await send(port, 'GET', '/sudo/panel?tab=keys', { headers: { cookie: browser.cookieHeader() } });
      expectStatus(fresh, 200);
      expect(fresh.json().headers).toMatchObject({ 'remote-user': 'bob', 'remote-session': await browser.sessionId() });
      expectStatus(await send(port, 'GET', '/app', { headers: { cookie: oldCookie } }), 302);
    });

    it('bad hosts, ambiguous paths and huge headers get a 4xx or the sign-in redirect, never the app', async () => {
      const before = upstream.received.length;
      const cookie = (await enrolledUser(h, 'carol')).browser.cookieHeader();
      const statuses: Array<[string, number]> = [];
      const check = (what: string, status: number) => {
        statuses.push([what, status]);
        expect(status, `${what}\n${caddy?.output().slice(-1500)}`).toBeGreaterThanOrEqual(300);
        expect(status, what).toBeLessThan(500);
      };
      for (const host of ['127.0.0.1\\health#', '127.0.0.1?', '127.0.0.1#', 'health@127.0.0.1', '127.0.0.1%2F', 'exa mple', '']) {
        for (const withCookie of [false, true]) {
          const res = await sendRaw(
            port,
            `GET /admin HTTP/1.1\r\nHost: ${host}\r\n${withCookie ? `Cookie: ${cookie}\r\n` : ''}Connection: close\r\n\r\n`,
          );
          check(`Host: ${JSON.stringify(host)} cookie=${withCookie}`, res.status);
        }
      }
      check('HTTP/1.0 without Host', (await sendRaw(port, 'GET /admin HTTP/1.0\r\n\r\n')).status);
      check('encoded slash dot segment', (await send(port, 'GET', '/health/..%2Fadmin', { headers: { cookie } })).status);
      check(
        'fragment in the request line',
        (await sendRaw(port, `GET /health#/../admin HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)).status,
      );
      check('a 20 KB cookie', (await send(port, 'GET', '/app', { headers: { cookie: `${cookie}; big=${'b'.repeat(20_000)}` } })).status);
      check('an 8 KB URI', (await send(port, 'GET', `/app?q=${'q'.repeat(8_200)}`, { headers: { cookie } })).status);
      expect(upstream.received.length, JSON.stringify(statuses)).toBe(before);
    });
  });
}
