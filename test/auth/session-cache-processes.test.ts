import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSession } from '../../src/auth/sessions.js';
import { addUser } from '../../src/auth/users.js';
import { hashToken } from '../../src/core/ids.js';
import { cookieNames } from '../../src/http/cookies.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * The session cache answers a forward-auth check without reading the store. A revocation written by
 * another process (the operator's CLI on the same data directory) must still end the session at
 * once: the cache learns of it from SQLite's data_version, read through the WAL-index header. Here a
 * listening twofold validates a session (and caches it), the built CLI revokes it in a child
 * process, and the very next check is refused.
 */

const REPO = resolve(import.meta.dirname, '../..');
const MAIN = join(REPO, 'dist/src/cli/main.js');
const PASSWORD = 'correct horse battery staple';
// The checks below come from this address and browser: continuous evaluation compares them with the session's.
const CTX = { ip: '127.0.0.1', userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' };

let h: Harness;

/** `twofold ARGS` as an operator runs it, on the harness's data directory, with only our TWOFOLD_* variables. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('TWOFOLD_') && key !== 'PORT') env[key] = value;
  env.TWOFOLD_DATA_DIR = h.dataDir;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: h.dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** A user with `count` two-factor sessions, made through the same use cases sign-in uses. */
async function userWithSessions(username: string, count: number) {
  const user = await addUser(h.deps, { username, password: PASSWORD, isAdmin: false }, null);
  const sessions = [];
  for (let i = 0; i < count; i++) {
    const now = h.deps.clock.now();
    sessions.push(
      await issueSession(
        h.deps,
        user,
        'full',
        [
          { method: 'pwd', at: now },
          { method: 'otp', at: now },
        ],
        CTX,
      ),
    );
  }
  return { user, sessions };
}

/** GET /auth/request as nginx's auth_request sends it. */
async function check(token: string): Promise<Response> {
  return fetch(`${h.baseUrl}/auth/request`, {
    headers: {
      'X-Original-URL': 'https://app.example.com/reports',
      'User-Agent': CTX.userAgent,
      cookie: `${cookieNames(h.deps.config).session}=${token}`,
    },
  });
}

const cached = (token: string) => h.deps.sessionCache.get(hashToken(token)) !== undefined;

beforeAll(async () => {
  // `npm test` builds first; a lone `vitest run test/auth` builds if there is nothing to run yet.
  if (!existsSync(MAIN)) execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'ignore' });
  h = await startHarness({ listen: true, realClock: true });
});

afterAll(async () => {
  await h?.close();
});

describe('a revocation by the CLI in another process ends a cached session at once', () => {
  it('sessions revoke ID: 200 and cached, then the CLI revokes it, then 401', async () => {
    const {
      sessions: [target, bystander],
    } = await userWithSessions('ines', 2);
    for (let i = 0; i < 3; i++) {
      const allowed = await check(target!.token);
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get('remote-user')).toBe('ines');
    }
    expect((await check(bystander!.token)).status).toBe(200);
    expect(cached(target!.token)).toBe(true);

    const run = await cli(['sessions', 'revoke', target!.session.id]);
    expect(run, run.stderr).toMatchObject({ code: 0 });

    const refused = await check(target!.token);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('unauthenticated');
    // The other session of the same user was not revoked: it is read again from the store and allowed.
    expect((await check(bystander!.token)).status).toBe(200);
    expect((await check(target!.token)).status).toBe(401);
  });

  it('user disable NAME: every cached session of the user is refused at once', async () => {
    const { sessions } = await userWithSessions('jonas', 3);
    for (const { token } of sessions) expect((await check(token)).status).toBe(200);
    for (const { token } of sessions) expect(cached(token)).toBe(true);

    const run = await cli(['user', 'disable', 'jonas']);
    expect(run, run.stderr).toMatchObject({ code: 0, stdout: 'Disabled jonas; ended 3 sessions.\n' });

    for (const { token } of sessions) expect((await check(token)).status).toBe(401);
  });

  it('user reset-factors NAME: the sessions end at once too', async () => {
    const { sessions } = await userWithSessions('karla', 1);
    expect((await check(sessions[0]!.token)).status).toBe(200);
    expect(cached(sessions[0]!.token)).toBe(true);

    const run = await cli(['user', 'reset-factors', 'karla']);
    expect(run, run.stderr).toMatchObject({ code: 0 });

    expect((await check(sessions[0]!.token)).status).toBe(401);
  });

  it('a CLI run that changes nothing of a session leaves it allowed (no false refusals)', async () => {
    const { sessions } = await userWithSessions('lars', 1);
    expect((await check(sessions[0]!.token)).status).toBe(200);
    // Another user disabled: a commit by another process, so this process drops its cache and reads again.
    await userWithSessions('mona', 0);
    expect((await cli(['user', 'disable', 'mona'])).code).toBe(0);
    const again = await check(sessions[0]!.token);
    expect(again.status).toBe(200);
    expect(again.headers.get('remote-user')).toBe('lars');
  });
});
