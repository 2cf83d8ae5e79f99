import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
 * A real nginx, configured by docs/examples/nginx.conf (the file the docs tell people to copy), in
 * front of a real app, with twofold answering its auth_request subrequests. Everything is checked
 * from outside: what the visitor gets back, and what the app received.
 */

const INSTALL_HINT = 'nginx is not installed: apt-get install nginx (Debian/Ubuntu; the http_auth_request module is included)';
const NGINX = findBinary('nginx', ['-v']);

/** `-e` (the error log used before the config is read) exists from nginx 1.19.5; older ones just warn about their default log. */
function startupLogArgs(binary: string): string[] {
  const version = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(spawnSync(binary, ['-v'], { encoding: 'utf8' }).stderr ?? '');
  const [major, minor, patch] = version ? version.slice(1).map(Number) : [0, 0, 0];
  return major! > 1 || (major === 1 && (minor! > 19 || (minor === 19 && patch! >= 5))) ? ['-e', 'stderr'] : [];
}

const RULES = [
  { path: '/health', policy: 'bypass' },
  { path: '/intranet', networks: ['10.0.0.0/8'], policy: 'bypass' },
  { path: '/denied', policy: 'deny' },
  { path: '/admin', policy: 'two_factor', max_auth_age: '10m' },
  // The smallest duration the config takes; the test waits it out to make the factor stale.
  { path: '/sudo', policy: 'two_factor', max_auth_age: '2s' },
];

if (!NGINX && process.env.CI) {
  describe('nginx auth_request in front of an app', () => {
    it('has nginx available in CI', () => {
      throw new Error(INSTALL_HINT);
    });
  });
} else if (!NGINX) {
  console.warn(`test/gate/nginx.test.ts skipped: ${INSTALL_HINT}`);
  describe('nginx auth_request in front of an app', () => {
    it.skip(`skipped: ${INSTALL_HINT}`, () => undefined);
  });
} else {
  describe('nginx auth_request in front of an app (docs/examples/nginx.conf)', () => {
    let h: Harness;
    let upstream: EchoUpstream;
    let nginx: RunningProcess | undefined;
    let prefix: string;
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
      prefix = mkdtempSync(join(tmpdir(), 'twofold-nginx-'));
      // When the tests run as root, nginx's workers run as nobody and must reach the temp directories.
      chmodSync(prefix, 0o755);
      port = await freePort();
      app = (path) => `http://127.0.0.1:${port}${path}`;
      const conf = join(prefix, 'nginx.conf');
      writeFileSync(
        conf,
        fillTemplate('nginx.conf', {
          LISTEN: `127.0.0.1:${port}`,
          TWOFOLD: new URL(h.baseUrl).host,
          UPSTREAM: upstream.hostPort,
          TEMP: prefix,
        }),
      );
      nginx = await startProcess(
        NGINX,
        ['-p', `${prefix}/`, '-c', conf, ...startupLogArgs(NGINX), '-g', `daemon off; pid ${prefix}/nginx.pid; error_log stderr;`],
        {
          port,
        },
      );
      alice = await enrolledUser(h, 'alice', { isAdmin: true, email: 'alice@example.com', displayName: 'Alice Liddell' });
      signedIn = new Browser(h);
      await signedIn.signIn('alice', alice.authenticator);
    });

    afterAll(async () => {
      await nginx?.stop();
      await h?.close();
      await upstream?.close();
      if (prefix) rmSync(prefix, { recursive: true, force: true });
    });

    /** Fails with nginx's own log when it answered something unexpected. */
    const expectStatus = (res: { status: number; body: string }, status: number) =>
      expect(res.status, `${res.body.slice(0, 300)}\n--- nginx log ---\n${nginx?.output().slice(-2000)}`).toBe(status);

    it('sends a visitor without a session to the sign-in page, with the way back, and the app sees nothing', async () => {
      const before = upstream.received.length;
      const get = await send(port, 'GET', '/app/page?x=1&y=two');
      expectStatus(get, 302);
      expect(get.headers.location).toBe(portalLocation(h, '/login', app('/app/page?x=1&y=two')));

      // A form post is sent to sign in as well (nginx turns every 401 into the redirect).
      const post = await send(port, 'POST', '/app/form', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1' });
      expectStatus(post, 302);
      expect(post.headers.location).toBe(portalLocation(h, '/login', app('/app/form')));
      expect(upstream.received.length).toBe(before);
    });

    it('keeps long addresses working: a way back up to 2 KB is kept, a longer one left out', async () => {
      // Mostly slashes, which URL-encoding triples: the 401's X-Twofold-Location outgrows nginx's default 4 KB header buffer.
      const long = `/app/${'a/'.repeat(950)}`;
      const res = await send(port, 'GET', long);
      expectStatus(res, 302);
      expect(res.headers.location).toBe(portalLocation(h, '/login', app(long)));
      const longer = await send(port, 'GET', `/app?q=${'x/'.repeat(2_000)}`);
      expectStatus(longer, 302);
      expect(longer.headers.location).toBe(new URL('/login', h.baseUrl).toString());
    });

    it('lets a bypass path through without a session, and a forged identity never reaches the app', async () => {
      const res = await send(port, 'GET', '/health', {
        headers: { 'Remote-User': 'admin', 'Remote-Groups': 'admins', 'Remote-AAL': '2', 'Remote-Session': 'forged', Remote_User: 'admin' },
      });
      expectStatus(res, 200);
      const seen = res.json();
      expect(seen.url).toBe('/health');
      for (const name of IDENTITY_HEADERS) expect(seen.headers[name], name).toBeUndefined();
      // nginx drops header names with underscores (ignore_invalid_headers), which CGI-style apps would read as HTTP_REMOTE_USER.
      expect(Object.keys(seen.headers).filter((name) => /^remote[-_]/.test(name))).toEqual([]);
    });

    it('does not believe an X-Forwarded-For sent by the client (a networks rule sees the real address)', async () => {
      const res = await send(port, 'GET', '/intranet/wiki', { headers: { 'X-Forwarded-For': '10.1.2.3' } });
      expectStatus(res, 302);
      expect(res.headers.location).toBe(portalLocation(h, '/login', app('/intranet/wiki')));
    });

    it('after password + TOTP through the API, the app receives who is signed in (and only that)', async () => {
      const browser = signedIn;
      const sessionId = await browser.sessionId();

      const res = await send(port, 'GET', '/app/dashboard', {
        headers: {
          cookie: browser.cookieHeader(),
          'Remote-User': 'mallory',
          'Remote-Groups': 'admins,root',
          'Remote-AAL': '3',
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
      expect(
        Object.keys(seen.headers)
          .filter((name) => /^remote[-_]/.test(name))
          .sort(),
      ).toEqual([...IDENTITY_HEADERS].sort());
      const authTime = Number(seen.headers['remote-auth-time']);
      expect(Math.abs(authTime - Date.now() / 1000)).toBeLessThan(120);

      // A rule with a generous max_auth_age passes a fresh session; a deny rule stops everyone.
      expectStatus(await send(port, 'GET', '/admin/users', { headers: { cookie: browser.cookieHeader() } }), 200);
      expectStatus(await send(port, 'GET', '/denied', { headers: { cookie: browser.cookieHeader() } }), 403);

      // The request body goes to the app untouched (only the auth subrequest drops it).
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

      // Alice revokes that session from her other one (the one she enrolled with).
      const revoked = await alice.browser.api('DELETE', `/api/v1/sessions/${await browser.sessionId()}`);
      expect(revoked.status).toBe(204);
      const after = await send(port, 'GET', '/app', { headers: { cookie } });
      expectStatus(after, 302);
      expect(after.headers.location).toBe(portalLocation(h, '/login', app('/app')));

      // Signing out: the cookie a copy kept is worthless at the gate right away.
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
      // Paths without max_auth_age still pass.
      expectStatus(await send(port, 'GET', '/app', { headers: { cookie: oldCookie } }), 200);

      // What nginx saw: a 401 whose header and body carry the step-up address.
      const direct = await fetch(new URL('/auth/request', h.baseUrl), {
        headers: { cookie: oldCookie, 'X-Original-URL': app('/sudo/panel'), 'X-Original-Method': 'GET' },
      });
      expect(direct.status).toBe(401);
      expect(direct.headers.get('x-twofold-location')).toBe(portalLocation(h, '/step-up', app('/sudo/panel')));
      expect(await direct.json()).toMatchObject({
        error: { code: 'step_up_required', location: portalLocation(h, '/step-up', app('/sudo/panel')), max_auth_age: 2 },
      });

      await browser.stepUp(authenticator);
      const fresh = await send(port, 'GET', '/sudo/panel?tab=keys', { headers: { cookie: browser.cookieHeader() } });
      expectStatus(fresh, 200);
      expect(fresh.json().headers).toMatchObject({ 'remote-user': 'bob', 'remote-session': await browser.sessionId() });
      // Step-up rotated the session: the old cookie is now signed out entirely.
      const old = await send(port, 'GET', '/app', { headers: { cookie: oldCookie } });
      expectStatus(old, 302);
      expect(old.headers.location).toContain('/login?');
    });

    describe('bad input', () => {
      it('/auth/request answers unreadable forwarding headers with 400, never 200 or 500', async () => {
        const session = (await enrolledUser(h, 'carol')).browser.cookieHeader();
        const ask = (headers: Record<string, string>) => fetch(new URL('/auth/request', h.baseUrl), { headers });
        const badUrls = [
          'not a url',
          '/health',
          'ftp://127.0.0.1/health',
          'http://',
          'http:///health',
          'http://127.0.0.1\\health#/admin',
          'http://127.0.0.1?/health',
          'http://127.0.0.1#/health',
          'http://health@127.0.0.1/admin',
          'http://127.0.0.1%2F/health',
          'http://127.0.0.1:99999999/health',
          'http://127.0.0.1//health',
          'http://127.0.0.1/he alth',
          'http://127.0.0.1/health/..%2Fadmin',
          `http://127.0.0.1/${'a'.repeat(9000)}`,
        ];
        for (const url of badUrls) {
          for (const cookie of [undefined, session]) {
            const res = await ask({ 'X-Original-URL': url, ...(cookie ? { cookie } : {}) });
            expect(res.status, url).toBe(400);
            expect(((await res.json()) as { error: { code: string } }).error.code).toBe('bad_forwarded_request');
          }
        }
        for (const method of ['', 'G E T', 'GET;x', 'A'.repeat(17), '%47ET']) {
          const res = await ask({ 'X-Original-URL': 'http://127.0.0.1/health', 'X-Original-Method': method });
          expect(res.status, method).toBe(400);
        }
        // Nothing at all, or the other proxies' headers only: this endpoint reads X-Original-URL.
        expect((await ask({})).status).toBe(400);
        expect((await ask({ 'X-Forwarded-Proto': 'http', 'X-Forwarded-Host': '127.0.0.1', 'X-Forwarded-Uri': '/health' })).status).toBe(
          400,
        );
        // Garbage credentials are simply no session.
        const junk = await ask({ 'X-Original-URL': 'http://127.0.0.1/app', cookie: `twofold_session=${'A'.repeat(8000)}` });
        expect(junk.status).toBe(401);
        const bearer = await ask({ 'X-Original-URL': 'http://127.0.0.1/app', authorization: `Bearer ${'x'.repeat(500)}` });
        expect(bearer.status).toBe(401);
        // An encoded spelling of a path is judged as the path it means (as apps that decode it serve it).
        expect((await ask({ 'X-Original-URL': 'http://127.0.0.1/%64enied', cookie: session })).status).toBe(403);
        expect((await ask({ 'X-Original-URL': 'http://127.0.0.1/%68ealth' })).status).toBe(200);
      });

      it('through nginx: bad hosts, forged forwarding headers and huge headers get a 4xx or the sign-in redirect, never the app', async () => {
        const before = upstream.received.length;
        const cookie = (await enrolledUser(h, 'dave')).browser.cookieHeader();
        const statuses: Array<[string, number]> = [];
        const check = (what: string, status: number) => {
          statuses.push([what, status]);
          expect(status, `${what.slice(0, 100)}\n${nginx?.output().slice(-1500)}`).toBeGreaterThanOrEqual(300);
          expect(status, what.slice(0, 100)).toBeLessThan(500);
        };

        // A Host the URL parser would read as "127.0.0.1" + "/health" (a bypass path): never allowed.
        for (const host of ['127.0.0.1\\health#', '127.0.0.1?', '127.0.0.1#', 'health@127.0.0.1', '127.0.0.1%2F', 'exa mple', '']) {
          for (const withCookie of [false, true]) {
            const res = await sendRaw(
              port,
              `GET /admin HTTP/1.1\r\nHost: ${host}\r\n${withCookie ? `Cookie: ${cookie}\r\n` : ''}Connection: close\r\n\r\n`,
            );
            check(`Host: ${JSON.stringify(host)} cookie=${withCookie}`, res.status);
          }
        }
        const noHost = await sendRaw(port, 'GET /admin HTTP/1.0\r\n\r\n');
        check('HTTP/1.0 without Host', noHost.status);

        // The client's own X-Original-URL / X-Forwarded-* are replaced or ignored.
        const spoofed = await send(port, 'GET', '/admin', {
          headers: {
            'X-Original-URL': app('/health'),
            'X-Original-Method': 'OPTIONS',
            'X-Forwarded-Proto': 'http',
            'X-Forwarded-Host': '127.0.0.1',
            'X-Forwarded-Uri': '/health',
          },
        });
        expect(spoofed.status).toBe(302);
        expect(spoofed.headers.location).toBe(portalLocation(h, '/login', app('/admin')));

        // Huge headers: nginx refuses one over-long cookie line itself; several long lines pass nginx
        // but exceed Node's header limit at twofold, which the documented @twofold_error turns into a 400.
        check('one 10 KB cookie', (await send(port, 'GET', '/app', { headers: { cookie: `x=${'a'.repeat(10_000)}` } })).status);
        const many = await send(port, 'GET', '/app', {
          headers: { cookie: [cookie, ...[1, 2, 3].map((i) => `big${i}=${'b'.repeat(7_000)}`)] },
        });
        check('three 7 KB cookie lines', many.status);
        // Long request lines: nginx's own limit (414) or twofold's (400), or simply the sign-in redirect.
        for (const length of [8_100, 8_160, 8_170, 8_180, 9_000]) {
          check(`URI of ${length}`, (await send(port, 'GET', `/app?q=${'q'.repeat(length)}`)).status);
        }
        // An over-long URL twofold cannot read (via a long Host), with a valid session: 400, not allowed.
        const longHost = await sendRaw(
          port,
          `GET /app?q=${'q'.repeat(7_990)} HTTP/1.1\r\nHost: ${'h'.repeat(60)}.${'o'.repeat(60)}.${'s'.repeat(60)}.${'t'.repeat(60)}.example:${port}\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`,
        );
        check('long host and URI', longHost.status);
        // A path whose meaning depends on who decodes it.
        check('encoded slash dot segment', (await send(port, 'GET', '/health/..%2Fadmin', { headers: { cookie } })).status);

        expect(upstream.received.length, JSON.stringify(statuses)).toBe(before);
      });
    });
  });
}
