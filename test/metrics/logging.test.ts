import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeps } from '../../src/app.js';
import { issueSetupLinkIfNeeded } from '../../src/auth/setup.js';
import { addUser } from '../../src/auth/users.js';
import { loadConfig } from '../../src/config.js';
import { ManualClock } from '../../src/core/clock.js';
import { buildServer } from '../../src/http/server.js';
import { ApiClient, STRONG_PASSWORD, totpAt, type ClientTarget } from '../http/client.js';

/**
 * The structured log of a real server at its most talkative level (trace), captured while users do
 * everything that handles a secret: first-admin setup, sign-in, enrollment, codes, recovery codes,
 * password change, step-up. Not one secret may appear in it; every line is JSON with a request id.
 */

describe('structured logs', () => {
  const lines: string[] = [];
  const secrets = new Set<string>();
  let dataDir: string;
  let close: () => Promise<void>;
  let target: ClientTarget;

  const remember = (...values: Array<string | undefined>) => {
    for (const v of values) if (v && v.length >= 6) secrets.add(v);
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'twofold-logs-'));
    const config = loadConfig({
      env: {},
      cwd: dataDir,
      overrides: { data_dir: dataDir, public_url: 'http://127.0.0.1:8080', log_level: 'trace' },
    });
    const clock = new ManualClock(Date.now());
    const deps = await createDeps(config, { clock });
    const stream = new Writable({
      write(chunk, _encoding, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    const app = await buildServer(deps, { logger: { level: 'trace', stream } });
    await app.ready();
    target = { app, deps, origin: config.publicOrigin };
    close = async () => {
      await app.close();
      await deps.store.close();
      rmSync(dataDir, { recursive: true, force: true });
    };

    // First administrator through the setup link.
    const setupUrl = await issueSetupLinkIfNeeded(deps);
    const setupToken = new URL(setupUrl!).searchParams.get('token')!;
    remember(setupToken, STRONG_PASSWORD);
    const admin = new ApiClient(target);
    await admin.get(`/setup?token=${setupToken}`);
    const setup = await admin.post('/api/v1/setup', { token: setupToken, username: 'root', password: STRONG_PASSWORD });
    expect(setup.status, JSON.stringify(setup.body)).toBeLessThan(300);

    // A user: password sign-in, TOTP enrollment, sign-in with a code and with a recovery code.
    const password = 'a sufficiently long passphrase 77';
    remember(password);
    await addUser(deps, { username: 'alice', password, isAdmin: false }, null);
    const browser = new ApiClient(target, { ip: '203.0.113.7' });
    expect((await browser.login('alice', password)).body.state).toBe('enrollment_required');
    remember(browser.sessionToken, browser.csrfToken);
    const started = await browser.post('/api/v1/factors/totp');
    const secret: string = started.body.secret;
    remember(secret, started.body.otpauth_uri);
    const code = totpAt(secret, clock.now());
    remember(code);
    const confirmed = await browser.post('/api/v1/factors/totp/confirm', { code });
    expect(confirmed.status).toBe(200);
    const recoveryCodes: string[] = confirmed.body.recovery_codes;
    remember(...recoveryCodes, browser.sessionToken, browser.csrfToken);

    for (const method of ['totp', 'recovery_code'] as const) {
      clock.advance(30_000);
      const device = new ApiClient(target, { ip: '192.0.2.9' });
      expect((await device.login('alice', password)).body.state).toBe('second_factor_required');
      remember(device.pendingToken, device.csrfToken);
      const wrong = await device.secondFactor('totp', '123456');
      expect(wrong.status).toBe(401);
      const answer = method === 'totp' ? totpAt(secret, clock.now()) : recoveryCodes[0]!;
      remember(answer);
      expect((await device.secondFactor(method, answer)).status).toBe(200);
      remember(device.sessionToken, device.csrfToken);
      // Bearer use of the token, and a request carrying it in a query string by mistake.
      await device.get('/api/v1/session', { bearer: device.sessionToken });
      await device.get(`/api/v1/session?token=${device.sessionToken}`);
    }
    clock.advance(30_000);
    const stepCode = totpAt(secret, clock.now());
    remember(stepCode);
    expect((await browser.post('/api/v1/session/step-up', { method: 'totp', code: stepCode })).status).toBe(200);
    const newPassword = 'another very long passphrase 88';
    remember(newPassword);
    expect((await browser.post('/api/v1/account/password', { current_password: password, new_password: newPassword })).status).toBeLessThan(
      300,
    );
    await browser.login('alice', 'a wrong password typed here');
    remember('a wrong password typed here');
  });
  afterAll(async () => {
    await close?.();
  });

  it('writes one JSON object per line, each request with its id', () => {
    expect(lines.length).toBeGreaterThan(20);
    const parsed = lines.map((line) => JSON.parse(line) as { level: number; reqId?: string; msg: string });
    const requestLines = parsed.filter((l) => l.reqId !== undefined);
    expect(requestLines.length).toBeGreaterThan(20);
    for (const l of requestLines) expect(l.reqId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never writes a password, code, recovery code, TOTP secret, token or CSRF value', () => {
    const log = lines.join('\n');
    expect(secrets.size).toBeGreaterThan(15);
    for (const secret of secrets) expect(log.includes(secret), `a secret (${secret.slice(0, 3)}…) is in the log`).toBe(false);
  });

  it('echoes X-Request-Id, keeping a well-formed one from the proxy in front', async () => {
    const fresh = await target.app.inject({ method: 'GET', url: '/healthz' });
    expect(fresh.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const given = await target.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'edge-4f1c2a9b7d' } });
    expect(given.headers['x-request-id']).toBe('edge-4f1c2a9b7d');
    expect(lines.some((l) => l.includes('"reqId":"edge-4f1c2a9b7d"'))).toBe(true);
    const hostile = await target.app.inject({ method: 'GET', url: '/healthz', headers: { 'x-request-id': 'bad id\u0000"}' } });
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
