import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeps } from '../../src/app.js';
import { issueSetupLinkIfNeeded } from '../../src/auth/setup.js';
import { addUser, resetFactors, setUserDisabled } from '../../src/auth/users.js';
import { loadConfig } from '../../src/config.js';
import { ManualClock } from '../../src/core/clock.js';
import { decodeBase32 } from '../../src/core/factors/totp.js';
import { normalizeRecoveryCode } from '../../src/core/factors/recovery-codes.js';
import { buildServer } from '../../src/http/server.js';
import { contentSecurityPolicy } from '../../src/http/security-headers.js';
import { startHarness, type Harness } from '../support/harness.js';
import {
  ApiClient,
  enrollTotp,
  expectJsonError,
  OTHER_STRONG_PASSWORD,
  signInWithTotp,
  STRONG_PASSWORD,
  StoredRows,
  totpAt,
  type ApiReply,
  type EnrolledUser,
} from './client.js';

/** Set-Cookie header lines of a reply, keyed by cookie name. */
function setCookieLines(res: ApiReply): Map<string, string> {
  const raw = res.headers['set-cookie'];
  const lines = raw === undefined ? [] : Array.isArray(raw) ? raw : [String(raw)];
  return new Map(lines.map((line) => [line.slice(0, line.indexOf('=')), line]));
}

/** The attributes of one Set-Cookie line, lower-cased names: { 'path': '/', 'httponly': true, ... }. */
function attributesOf(line: string): Record<string, string | true> {
  const [, ...parts] = line.split(';').map((p) => p.trim());
  return Object.fromEntries(
    parts.map((part) => {
      const eq = part.indexOf('=');
      return eq === -1 ? [part.toLowerCase(), true] : [part.slice(0, eq).toLowerCase(), part.slice(eq + 1)];
    }),
  );
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('security properties of the HTTP API (dev mode: http://127.0.0.1)', () => {
  let h: Harness;
  let sam: EnrolledUser;
  /** sam's two-factor session, cookie-authenticated. */
  let browser: ApiClient;

  beforeAll(async () => {
    h = await startHarness();
    await addUser(h.deps, { username: 'sam', password: STRONG_PASSWORD, isAdmin: false }, null);
    browser = new ApiClient(h);
    sam = await enrollTotp(h, browser, 'sam', STRONG_PASSWORD);
  });
  afterAll(async () => {
    await h?.close();
  });

  describe('CSRF: cookie-authenticated writes must prove they come from our origin', () => {
    const write = (options: Parameters<ApiClient['request']>[2]) => browser.request('DELETE', '/api/v1/sessions', options);

    it('accepts Origin equal to the public origin', async () => {
      expect(h.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await write({ csrf: 'none', headers: { origin: h.origin } });
      expect(res.status).toBe(200);
    });

    it('accepts X-CSRF-Token equal to the twofold_csrf cookie', async () => {
      expect(browser.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const res = await write({ csrf: 'none', headers: { 'x-csrf-token': browser.csrfToken! } });
      expect(res.status).toBe(200);
    });

    it('accepts the token in a _csrf form field (the pages post forms)', async () => {
      const other = new ApiClient(h);
      await signInWithTotp(h, other, sam);
      const res = await other.post('/api/v1/logout', `_csrf=${other.csrfToken}`, {
        csrf: 'none',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.status).toBe(204);
    });

    it.each([
      ['no Origin and no token', {}],
      ['a wrong token', { 'x-csrf-token': 'A'.repeat(43) }],
      ['an empty token', { 'x-csrf-token': '' }],
      ['a foreign Origin', { origin: 'https://evil.example' }],
      ['a foreign Origin even with the right token', { origin: 'https://evil.example', 'x-csrf-token': '<right>' }],
      ['Origin: null', { origin: 'null' }],
      ['our host on another port', { origin: 'http://127.0.0.1:1' }],
      ['our origin as a prefix of another', { origin: `${'<origin>'}.evil.example` }],
    ])('refuses 403 csrf_failed with %s, and the write does not happen', async (_label, rawHeaders) => {
      const headers = Object.fromEntries(
        Object.entries(rawHeaders as Record<string, string>).map(([k, v]) => [
          k,
          v.replace('<right>', browser.csrfToken!).replace('<origin>', h.origin),
        ]),
      );
      const victim = new ApiClient(h);
      await signInWithTotp(h, victim, sam);
      const res = await write({ csrf: 'none', headers });
      expectJsonError(res, 403, 'csrf_failed');
      expect((await victim.session()).status).toBe(200);
    });

    it('refuses a cross-site logout and a cross-site login', async () => {
      const victim = new ApiClient(h);
      await signInWithTotp(h, victim, sam);
      expectJsonError(await victim.post('/api/v1/logout', undefined, { csrf: 'none' }), 403, 'csrf_failed');
      expectJsonError(
        await victim.post('/api/v1/logout', undefined, { csrf: 'none', headers: { origin: 'https://evil.example' } }),
        403,
        'csrf_failed',
      );
      expect((await victim.session()).status).toBe(200);

      // Login CSRF (signing the victim into the attacker's account): a foreign Origin is refused before any work.
      const crossSite = await new ApiClient(h).login('sam', STRONG_PASSWORD, { headers: { origin: 'https://evil.example' } });
      expectJsonError(crossSite, 403, 'csrf_failed');
      expect(crossSite.headers['set-cookie']).toBeUndefined();
    });

    it('Bearer requests need no CSRF token (a cross-site page cannot set Authorization)', async () => {
      const api = new ApiClient(h);
      await signInWithTotp(h, api, sam);
      const token = api.sessionToken!;
      const res = await api.request('DELETE', '/api/v1/sessions', { bearer: token, csrf: 'none' });
      expect(res.status).toBe(200);
      expect((await api.get('/api/v1/session', { bearer: token })).body.aal).toBe(2);
      browser = api;
    });
  });

  describe('cookies', () => {
    it('dev mode: twofold_session / twofold_pending / twofold_csrf, HttpOnly (not csrf), SameSite=Lax, Path=/, not Secure', async () => {
      const client = new ApiClient(h);
      h.clock.advance(30_000);
      const login = await client.login('sam', STRONG_PASSWORD);
      const pendingCookies = setCookieLines(login);
      expect([...pendingCookies.keys()].sort()).toEqual(['twofold_csrf', 'twofold_pending']);
      expect(attributesOf(pendingCookies.get('twofold_pending')!)).toEqual({
        'max-age': '300',
        path: '/',
        httponly: true,
        samesite: 'Lax',
      });
      expect(attributesOf(pendingCookies.get('twofold_csrf')!)).toEqual({ 'max-age': '300', path: '/', samesite: 'Lax' });

      const second = await client.secondFactor('totp', totpAt(sam.secret, h.clock.now()));
      const sessionCookies = setCookieLines(second);
      // The cookie lives exactly as long as the session: 12 h at most, shorter when the risk engine
      // rated the sign-in medium or high (a new browser for sam is medium: session_by_risk).
      const session = await client.session();
      const lifetimeS = String(Math.floor((Date.parse(session.body.expires_at) - h.clock.now()) / 1000));
      expect(Number(lifetimeS)).toBeGreaterThan(0);
      expect(Number(lifetimeS)).toBeLessThanOrEqual(12 * 3600);
      expect(attributesOf(sessionCookies.get('twofold_session')!)).toEqual({
        'max-age': lifetimeS,
        path: '/',
        httponly: true,
        samesite: 'Lax',
      });
      expect(attributesOf(sessionCookies.get('twofold_csrf')!)).toEqual({ 'max-age': lifetimeS, path: '/', samesite: 'Lax' });
      // The pending cookie is deleted once used.
      expect(attributesOf(sessionCookies.get('twofold_pending')!)).toMatchObject({ path: '/', expires: 'Thu, 01 Jan 1970 00:00:00 GMT' });

      const out = setCookieLines(await client.logout());
      expect([...out.keys()].sort()).toEqual(['twofold_csrf', 'twofold_pending', 'twofold_session']);
      for (const line of out.values()) expect(attributesOf(line)).toMatchObject({ path: '/', expires: 'Thu, 01 Jan 1970 00:00:00 GMT' });
    });

    it('https mode: __Host- names, Secure, Path=/, no Domain; HSTS; Origin must be the https origin', async () => {
      const hs = await startHarness({ overrides: { public_url: 'https://auth.example.com' } });
      try {
        expect(hs.origin).toBe('https://auth.example.com');
        await addUser(hs.deps, { username: 'sam', password: STRONG_PASSWORD, isAdmin: false }, null);
        const client = new ApiClient(hs);
        const login = await client.login('sam', STRONG_PASSWORD);
        const cookies = setCookieLines(login);
        expect([...cookies.keys()].sort()).toEqual(['__Host-twofold_csrf', '__Host-twofold_pending', '__Host-twofold_session']);
        // (a session replaces any pending sign-in: that cookie is deleted, with the attributes __Host- demands)
        expect(attributesOf(cookies.get('__Host-twofold_pending')!)).toMatchObject({
          path: '/',
          secure: true,
          expires: 'Thu, 01 Jan 1970 00:00:00 GMT',
        });
        expect(attributesOf(cookies.get('__Host-twofold_session')!)).toEqual({
          'max-age': String(15 * 60),
          path: '/',
          httponly: true,
          secure: true,
          samesite: 'Lax',
        });
        expect(attributesOf(cookies.get('__Host-twofold_csrf')!)).toEqual({
          'max-age': String(15 * 60),
          path: '/',
          secure: true,
          samesite: 'Lax',
        });
        expect(login.headers['strict-transport-security']).toBe('max-age=31536000; includeSubDomains');

        // Enroll, sign out, sign in: the pending cookie is __Host- too.
        const started = await client.post('/api/v1/factors/totp');
        await client.post('/api/v1/factors/totp/confirm', { code: totpAt(started.body.secret, hs.clock.now()) });
        // CSRF in https mode: the https origin passes, its http twin does not.
        expectJsonError(
          await client.post('/api/v1/logout', undefined, { csrf: 'none', headers: { origin: 'http://auth.example.com' } }),
          403,
          'csrf_failed',
        );
        const out = await client.post('/api/v1/logout', undefined, { csrf: 'origin' });
        expect(out.status).toBe(204);
        for (const line of setCookieLines(out).values()) expect(attributesOf(line)).toMatchObject({ path: '/', secure: true });

        hs.clock.advance(30_000);
        const pending = setCookieLines(await client.login('sam', STRONG_PASSWORD));
        expect(attributesOf(pending.get('__Host-twofold_pending')!)).toEqual({
          'max-age': '300',
          path: '/',
          httponly: true,
          secure: true,
          samesite: 'Lax',
        });
        // A plain name is not read in https mode: a cookie planted without the prefix is ignored.
        const planted = await client.get('/api/v1/session', { noCookies: true, cookies: { twofold_session: client.sessionToken ?? 'x' } });
        expect(planted.status).toBe(401);
      } finally {
        await hs.close();
      }
    });

    it('every sign-in gets a new session id and a new token', async () => {
      const client = new ApiClient(h);
      const seen = { ids: new Set<string>(), tokens: new Set<string>(), csrf: new Set<string>() };
      for (let i = 0; i < 3; i++) {
        await signInWithTotp(h, client, sam);
        seen.tokens.add(client.sessionToken!);
        seen.csrf.add(client.csrfToken!);
        seen.ids.add((await client.session()).body.id);
      }
      expect(seen.tokens.size).toBe(3);
      expect(seen.csrf.size).toBe(3);
      expect(seen.ids.size).toBe(3);
    });
  });

  describe('security headers', () => {
    it('pages get a CSP without inline scripts, frame-ancestors none and a same-origin referrer policy', async () => {
      const page = await h.app.inject({ method: 'GET', url: '/login' });
      // The pages are optional in this build; the headers are global, so /healthz carries them too.
      const res = page.statusCode === 404 ? await h.app.inject({ method: 'GET', url: '/healthz' }) : page;
      expect(res.statusCode).toBe(200);
      const csp = String(res.headers['content-security-policy']);
      const directives = new Map(
        csp
          .split(';')
          .map((d) => d.trim().split(/\s+/))
          .map(([name, ...values]) => [name!, values]),
      );
      expect(directives.get('script-src')).toEqual(["'self'"]);
      expect(directives.get('default-src')).toEqual(["'self'"]);
      expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
      expect(directives.get('object-src')).toEqual(["'none'"]);
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
      // same-origin: no referrer leaves the site, and Chromium still sends a real Origin on form posts.
      expect(res.headers['referrer-policy']).toBe('same-origin');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['strict-transport-security']).toBeUndefined(); // http dev mode

      if (page.statusCode === 200) {
        expect(page.headers['content-type']).toContain('text/html');
        // The page itself keeps to the CSP: scripts only by src, no inline handlers.
        expect(page.body).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/i);
        expect(page.body).not.toMatch(/\son[a-z]+\s*=/i);
      }
    });

    it("form-action allows 'self' and the places sign-in may return to, nothing else", () => {
      const formAction = (redirectDomains: string[]) => /form-action ([^;]*)/.exec(contentSecurityPolicy({ redirectDomains }))![1];
      expect(formAction([])).toBe("'self'");
      expect(formAction(['app.example.com', '*.example.org', 'app.example.net:8443', '127.0.0.1:8081'])).toBe(
        "'self' app.example.com:* *.example.org:* app.example.net:8443 127.0.0.1:8081",
      );
      // Anything that is not a plain host never reaches the header (config refuses it at start).
      expect(formAction(['evil.example; script-src *', '[::1]:8081', "'unsafe-inline'"])).toBe("'self'");
    });

    it('API answers and errors carry the same headers', async () => {
      for (const url of ['/api/v1/session', '/api/v1/nope', '/openapi.json']) {
        const res = await h.app.inject({ method: 'GET', url });
        expect(res.headers['content-security-policy'], url).toContain("frame-ancestors 'none'");
        expect(res.headers['referrer-policy'], url).toBe('same-origin');
      }
    });
  });

  describe('no user enumeration', () => {
    beforeAll(async () => {
      await addUser(h.deps, { username: 'dora', password: STRONG_PASSWORD, isAdmin: false }, null);
      const gone = await addUser(h.deps, { username: 'gone', password: STRONG_PASSWORD, isAdmin: false }, null);
      await setUserDisabled(h.deps, gone, true, null);
    });

    it('unknown user, wrong password and disabled user give the identical status and body', async () => {
      const answers = [];
      for (const [i, [username, password]] of [
        ['nobody-here', STRONG_PASSWORD],
        ['dora', 'not the password at all'],
        ['gone', STRONG_PASSWORD],
        ['not a valid name!', STRONG_PASSWORD],
      ].entries()) {
        const res = await new ApiClient(h, { ip: `10.1.0.${i + 1}` }).login(username!, password!);
        answers.push({ status: res.status, body: res.raw.body, cookies: res.headers['set-cookie'] ?? null });
      }
      expect(answers[0]).toEqual({
        status: 401,
        body: JSON.stringify({ error: { code: 'invalid_credentials', message: 'Invalid username or password.' } }),
        cookies: null,
      });
      for (const answer of answers) expect(answer).toEqual(answers[0]);
    });

    it('and similar timing: the median of 15 tries each is within a factor 2 (argon2 runs either way)', async () => {
      const time = async (username: string, ip: string) => {
        const client = new ApiClient(h, { ip });
        const start = process.hrtime.bigint();
        const res = await client.login(username, 'not the password at all');
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        expect(res.status).toBe(401);
        return ms;
      };
      const unknown: number[] = [];
      const wrong: number[] = [];
      // Interleaved, each try from its own address, so neither the throttle nor warm-up favours one side.
      for (let i = 0; i < 15; i++) {
        unknown.push(await time(`nobody${i}`, `10.2.0.${i + 1}`));
        wrong.push(await time('dora', `10.3.0.${i + 1}`));
      }
      const [a, b] = [median(unknown), median(wrong)];
      expect(Math.max(a, b) / Math.min(a, b), `median unknown ${a.toFixed(1)} ms, wrong password ${b.toFixed(1)} ms`).toBeLessThan(2);
      // Both actually did argon2 work.
      expect(Math.min(a, b)).toBeGreaterThan(5);
    });
  });

  describe('rate limiting of password guesses (per account and IP)', () => {
    beforeAll(async () => {
      await addUser(h.deps, { username: 'rita', password: STRONG_PASSWORD, isAdmin: false }, null);
    });

    it('after 5 wrong passwords the next try gets 429 with Retry-After, even the right password, until the delay passes', async () => {
      expect(h.deps.config.rateLimit.failuresBeforeDelay).toBe(5);
      const attacker = new ApiClient(h, { ip: '10.66.0.1' });
      for (let i = 1; i <= 5; i++) expectJsonError(await attacker.login('rita', `wrong guess ${i}`), 401, 'invalid_credentials');

      const limited = await attacker.login('rita', 'wrong guess 6');
      expectJsonError(limited, 429, 'rate_limited');
      const retryAfter = Number(limited.headers['retry-after']);
      expect(retryAfter).toBeGreaterThanOrEqual(1);

      const right = await attacker.login('rita', STRONG_PASSWORD);
      expectJsonError(right, 429, 'rate_limited');
      expect(right.headers['retry-after']).toBeDefined();
      expect(right.headers['set-cookie']).toBeUndefined();

      // The brake is per account and IP: rita from her own address is not slowed down...
      const elsewhere = await new ApiClient(h, { ip: '10.77.0.1' }).login('rita', STRONG_PASSWORD);
      expect(elsewhere.body.state).toBe('enrollment_required');

      // ...and the attacker's address may try again once the delay has passed (the throttle runs on wall time).
      await sleep(retryAfter * 1000 + 150);
      const later = await attacker.login('rita', STRONG_PASSWORD);
      expect(later.status).toBe(200);
      expect(later.body.state).toBe('enrollment_required');
    });
  });

  describe('secrets at rest', () => {
    it('the session token is 256-bit and only its SHA-256 is stored; TOTP secrets are sealed; recovery codes are hashed', async () => {
      await addUser(h.deps, { username: 'tess', password: STRONG_PASSWORD, isAdmin: false }, null);
      const client = new ApiClient(h);
      const tess = await enrollTotp(h, client, 'tess', STRONG_PASSWORD);
      h.clock.advance(30_000);
      await client.login('tess', STRONG_PASSWORD);
      const pendingToken = client.pendingToken!;
      await client.secondFactor('totp', totpAt(tess.secret, h.clock.now()));
      const token = client.sessionToken!;
      const csrf = client.csrfToken!;

      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token, 'base64url')).toHaveLength(32);

      const db = new StoredRows(h.deps.config.sqlitePath);
      try {
        const sessionId = (await client.session()).body.id;
        const row = db.rows('sessions').find((r) => r.id === sessionId)!;
        expect(row.token_hash).toBe(createHash('sha256').update(token).digest('hex'));

        const secretBytes = decodeBase32(tess.secret);
        const forbidden: Array<[string, string]> = [
          ['session token', token],
          ['pending-login token', pendingToken],
          ['csrf token', csrf],
          ['password', STRONG_PASSWORD],
          ['TOTP secret (base32)', tess.secret],
          ['TOTP secret (lower-case base32)', tess.secret.toLowerCase()],
          ['TOTP secret (hex)', secretBytes.toString('hex')],
          ['TOTP secret (base64)', secretBytes.toString('base64').replace(/=+$/, '')],
          ['TOTP secret (base64url)', secretBytes.toString('base64url')],
          ['TOTP secret (latin1)', secretBytes.toString('latin1')],
          ...tess.recoveryCodes.flatMap((code): Array<[string, string]> => [
            ['recovery code', code],
            ['recovery code (normalised)', normalizeRecoveryCode(code)!],
          ]),
        ];
        for (const table of db.tables()) {
          for (const stored of db.rows(table)) {
            for (const [column, value] of Object.entries(stored)) {
              if (value === null) continue;
              const text = Buffer.isBuffer(value) ? value.toString('latin1') : String(value);
              for (const [what, secret] of forbidden) {
                expect(text.includes(secret), `${table}.${column} holds the ${what}`).toBe(false);
              }
            }
          }
        }

        const tessId = db.rows('users').find((u) => u.username === 'tess')!.id;
        const factor = db.rows('totp_factors').find((f) => f.user_id === tessId)!;
        expect(String(factor.secret_sealed)).toMatch(/^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
        const codes = db.rows('recovery_codes').filter((r) => r.user_id === tessId);
        expect(codes).toHaveLength(10);
        for (const code of codes) expect(code.code_hash).toMatch(/^[0-9a-f]{64}$/);
        expect(String(db.rows('users').find((u) => u.id === tessId)!.password_hash)).toMatch(/^\$argon2id\$/);
      } finally {
        db.close();
      }
    });
  });
});

describe('NIST 800-63B: consecutive failed codes lock the factor', () => {
  let h: Harness;
  beforeAll(async () => {
    // The default limit is 100; the configuration's minimum (10) keeps the test short.
    h = await startHarness({ overrides: { 'login.max_code_attempts': 20, 'login.max_consecutive_factor_failures': 10 } });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function pendingLogin(user: EnrolledUser, ip: string): Promise<ApiClient> {
    h.clock.advance(30_000);
    const client = new ApiClient(h, { ip });
    expect((await client.login(user.username, user.password)).body.state).toBe('second_factor_required');
    return client;
  }
  const wrongCode = (user: EnrolledUser) => (totpAt(user.secret, h.clock.now()) === '000000' ? '111111' : '000000');

  it('the 10th consecutive wrong code across pending sign-ins locks it, and then even the right codes are refused', async () => {
    const user = await addUser(h.deps, { username: 'dave', password: STRONG_PASSWORD, isAdmin: false }, null);
    const dave = await enrollTotp(h, new ApiClient(h), 'dave', STRONG_PASSWORD);

    const first = await pendingLogin(dave, '10.5.0.1');
    for (let i = 0; i < 6; i++) expectJsonError(await first.secondFactor('totp', wrongCode(dave)), 401, 'invalid_code');
    const second = await pendingLogin(dave, '10.5.0.2');
    for (let i = 0; i < 3; i++) expectJsonError(await second.secondFactor('recovery_code', 'zzzz-zzzz-zzzz'), 401, 'invalid_code');
    expectJsonError(await second.secondFactor('totp', wrongCode(dave)), 403, 'factor_locked');
    expect((await h.deps.store.users.findById(user.id))!.factorFailures).toBe(10);

    const third = await pendingLogin(dave, '10.5.0.3');
    expectJsonError(await third.secondFactor('totp', totpAt(dave.secret, h.clock.now())), 403, 'factor_locked');
    expectJsonError(await third.secondFactor('recovery_code', dave.recoveryCodes[0]!), 403, 'factor_locked');
    expect(third.sessionToken).toBeUndefined();

    // An administrator's reset removes the factor: the next sign-in enrolls again.
    await resetFactors(h.deps, user, null);
    expect((await new ApiClient(h).login('dave', STRONG_PASSWORD)).body.state).toBe('enrollment_required');
  });

  it('a correct code resets the count: only consecutive failures lock', async () => {
    await addUser(h.deps, { username: 'erin', password: OTHER_STRONG_PASSWORD, isAdmin: false }, null);
    const erin = await enrollTotp(h, new ApiClient(h), 'erin', OTHER_STRONG_PASSWORD);
    const first = await pendingLogin(erin, '10.6.0.1');
    for (let i = 0; i < 9; i++) expectJsonError(await first.secondFactor('totp', wrongCode(erin)), 401, 'invalid_code');
    expect((await first.secondFactor('totp', totpAt(erin.secret, h.clock.now()))).status).toBe(200);

    const second = await pendingLogin(erin, '10.6.0.2');
    for (let i = 0; i < 9; i++) expectJsonError(await second.secondFactor('totp', wrongCode(erin)), 401, 'invalid_code');
    expect((await second.secondFactor('totp', totpAt(erin.secret, h.clock.now()))).status).toBe(200);
  });
});

describe('secrets never reach the log', () => {
  it('logs requests at info level without passwords, session, pending, CSRF or setup tokens, TOTP secrets or recovery codes', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'twofold-log-test-'));
    const lines: string[] = [];
    const stream = { write: (line: string) => void lines.push(line) };
    const config = loadConfig({
      env: {},
      cwd: dataDir,
      overrides: { data_dir: dataDir, public_url: 'http://127.0.0.1:8080', log_level: 'info' },
    });
    const clock = new ManualClock(Date.now());
    const deps = await createDeps(config, { clock });
    const app = await buildServer(deps, { logger: { level: 'info', stream } });
    await app.ready();
    try {
      const target = { app, deps, origin: config.publicOrigin };
      const setupLink = (await issueSetupLinkIfNeeded(deps))!;
      const setupToken = new URL(setupLink).searchParams.get('token')!;
      await app.inject({ method: 'GET', url: `/setup?token=${setupToken}` });

      const admin = new ApiClient(target);
      const setup = await admin.post('/api/v1/setup', { token: setupToken, username: 'root', password: STRONG_PASSWORD });
      expect(setup.status).toBe(200);
      const enrollmentToken = admin.sessionToken!;
      const started = await admin.post('/api/v1/factors/totp');
      const secret: string = started.body.secret;
      const confirmed = await admin.post('/api/v1/factors/totp/confirm', { code: totpAt(secret, clock.now()) });
      const recoveryCodes: string[] = confirmed.body.recovery_codes;

      clock.advance(30_000);
      const client = new ApiClient(target);
      await client.login('root', STRONG_PASSWORD);
      const pendingToken = client.pendingToken!;
      const code = totpAt(secret, clock.now());
      await client.secondFactor('totp', code);
      const token = client.sessionToken!;
      await client.get('/api/v1/session', { bearer: token });
      await client.get(`/api/v1/session?token=${token}`);
      await client.post('/api/v1/account/password', { current_password: STRONG_PASSWORD, new_password: OTHER_STRONG_PASSWORD });

      // Refusals log too: a wrong password, a malformed body carrying a password, a garbage token.
      await new ApiClient(target).login('root', 'my wrong but secret guess');
      await new ApiClient(target).post('/api/v1/login', '{"username":"root","password":"half-typed secret', {
        headers: { 'content-type': 'application/json' },
      });
      await new ApiClient(target).post('/api/v1/login', { username: 'root', password: 'oversized secret '.repeat(1200) });
      await new ApiClient(target).get('/api/v1/session', { bearer: 'x'.repeat(43) });

      const log = lines.join('');
      expect(lines.length).toBeGreaterThan(10);
      expect(log).toContain('"path":"/api/v1/login"');
      expect(log).toContain('"path":"/setup"');
      const secrets: Record<string, string> = {
        password: STRONG_PASSWORD,
        'new password': OTHER_STRONG_PASSWORD,
        'wrong password': 'my wrong but secret guess',
        'password in a malformed body': 'half-typed secret',
        'password in an oversized body': 'oversized secret',
        'setup token': setupToken,
        'enrollment session token': enrollmentToken,
        'pending-login token': pendingToken,
        'session token': token,
        'csrf token': client.csrfToken ?? admin.csrfToken!,
        'TOTP secret': secret,
        'TOTP code': code,
        ...Object.fromEntries(recoveryCodes.map((rc, i) => [`recovery code ${i}`, rc])),
      };
      for (const [what, value] of Object.entries(secrets)) expect(log.includes(value), `the log holds the ${what}`).toBe(false);
    } finally {
      await app.close();
      await deps.store.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
