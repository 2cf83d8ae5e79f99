import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { cookieNames } from '../../src/http/cookies.js';
import { startHarness, type Harness } from '../support/harness.js';
import { STRONG_PASSWORD } from './client.js';

/**
 * Enrollment and sign-in checked by an independent TOTP implementation: oathtool (oath-toolkit)
 * computes the codes from the secret the API hands out, over real HTTP with the real clock.
 */

const INSTALL_HINT = 'oathtool is not installed: apt-get install oathtool (or brew install oath-toolkit)';
const hasOathtool = !spawnSync('oathtool', ['--version'], { stdio: 'ignore' }).error;

const oathtool = (...args: string[]): string => execFileSync('oathtool', args, { encoding: 'utf8' }).trim();

/** A fetch client with a cookie jar, as a browser on the same origin (it sends Origin on writes). */
class HttpBrowser {
  readonly jar = new Map<string, string>();
  constructor(
    private readonly baseUrl: string,
    private readonly origin: string,
  ) {}

  async send(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const headers: Record<string, string> = { 'user-agent': 'vitest oathtool' };
    if (this.jar.size) headers.cookie = [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (method !== 'GET') headers.origin = this.origin;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(new URL(path, this.baseUrl), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }
}

if (!hasOathtool && process.env.CI) {
  describe('a real authenticator (oathtool)', () => {
    it('is available in CI', () => {
      throw new Error(INSTALL_HINT);
    });
  });
} else if (!hasOathtool) {
  console.warn(`test/http/oathtool.test.ts skipped: ${INSTALL_HINT}`);
  describe('a real authenticator (oathtool)', () => {
    it.skip(`skipped: ${INSTALL_HINT}`, () => undefined);
  });
} else {
  describe('a real authenticator (oathtool) over real HTTP with the real clock', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({ listen: true, realClock: true });
      await addUser(h.deps, { username: 'olive', password: STRONG_PASSWORD, isAdmin: false }, null);
    });
    afterAll(async () => {
      await h?.close();
    });

    it('enrolls with an oathtool code, then signs in with the next one', async () => {
      const browser = new HttpBrowser(h.baseUrl, h.origin);
      const names = cookieNames(h.deps.config);

      expect((await browser.send('POST', '/api/v1/login', { username: 'olive', password: STRONG_PASSWORD })).json.state).toBe(
        'enrollment_required',
      );
      const started = await browser.send('POST', '/api/v1/factors/totp');
      expect(started.status).toBe(200);
      const secret: string = started.json.secret;
      expect(started.json.otpauth_uri).toContain(`secret=${secret}`);

      const enrollCode = oathtool('--totp', '-b', secret);
      expect(enrollCode).toMatch(/^\d{6}$/);
      const confirmed = await browser.send('POST', '/api/v1/factors/totp/confirm', { code: enrollCode });
      expect(confirmed.status, JSON.stringify(confirmed.json)).toBe(200);
      expect(confirmed.json.recovery_codes).toHaveLength(10);

      expect((await browser.send('POST', '/api/v1/logout')).status).toBe(204);
      expect(browser.jar.has(names.session)).toBe(false);

      const login = await browser.send('POST', '/api/v1/login', { username: 'olive', password: STRONG_PASSWORD });
      expect(login.json).toMatchObject({ state: 'second_factor_required', methods: ['totp', 'recovery_code'] });
      // The enrollment code's step is spent; the authenticator's next code is inside the ±1 step window.
      const nextCode = oathtool('--totp', '-b', '-N', '+30 seconds', secret);
      const second = await browser.send('POST', '/api/v1/login/second-factor', { method: 'totp', code: nextCode });
      expect(second.status, JSON.stringify(second.json)).toBe(200);
      expect(second.json.state).toBe('authenticated');

      const session = await browser.send('GET', '/api/v1/session');
      expect(session.json).toMatchObject({ aal: 2, amr: ['pwd', 'otp'], user: { username: 'olive' } });
    });
  });
}
