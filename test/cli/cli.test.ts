import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthDeps } from '../../src/auth/deps.js';
import { issueSession, listSessions } from '../../src/auth/sessions.js';
import { confirmTotpEnrollment, startTotpEnrollment } from '../../src/auth/totp-enrollment.js';
import { addUser as addUserUseCase, requireUser } from '../../src/auth/users.js';
import { userOfResetLink } from '../../src/auth/password-reset.js';
import { decodeBase32, DEFAULT_TOTP_PARAMS, generateTotp } from '../../src/core/factors/totp.js';
import type { User } from '../../src/store/store.js';
import { CLI_MAIN as MAIN, runCli, withCliStore, type CliRun } from '../support/cli.js';

/**
 * The built CLI as an operator runs it: a child process per command, against a real SQLite file in
 * a fresh temp dir, with real argon2. Sessions and factors are made in this process through the same
 * use cases the HTTP side uses, with the store closed again before the CLI runs.
 */

const REPO = resolve(import.meta.dirname, '../..');
const PASSWORD = 'correct horse battery staple';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

let root: string;
let dataDir: string;

/** Runs `twofold ARGS` against this file's data dir (test/support/cli.ts). */
const twofold = (args: string[], options: { input?: string; env?: Record<string, string> } = {}): Promise<CliRun> =>
  runCli(args, { root, dataDir }, options);

/** Use cases run in this process against the same data dir; the store is closed before returning. */
const withStore = <T>(run: (deps: AuthDeps) => Promise<T>): Promise<T> => withCliStore({ root, dataDir }, run);

const CTX = { ip: '203.0.113.7', userAgent: FIREFOX };

/** A user made in-process (the CLI's own `user add` is tested on its own), with `sessions` live two-factor sessions. */
async function seedUser(username: string, sessions = 0): Promise<{ userId: string; sessionIds: string[] }> {
  return withStore(async (deps) => {
    const user = await addUserUseCase(deps, { username, password: PASSWORD, isAdmin: false }, null);
    return { userId: user.id, sessionIds: await signIn(deps, user, sessions) };
  });
}

async function signIn(deps: AuthDeps, user: User, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const now = deps.clock.now();
    const { session } = await issueSession(
      deps,
      user,
      'full',
      [
        { method: 'pwd', at: now },
        { method: 'otp', at: now },
      ],
      CTX,
    );
    ids.push(session.id);
  }
  return ids;
}

const liveSessionIds = (username: string) =>
  withStore(async (deps) => (await listSessions(deps, await requireUser(deps, username))).map((session) => session.id));

const findUser = (username: string) => withStore((deps) => requireUser(deps, username));

const json = <T = Array<Record<string, unknown>>>(run: CliRun): T => JSON.parse(run.stdout) as T;

beforeAll(async () => {
  // `npm test` builds first; a lone `vitest run test/cli` builds if there is nothing to run yet.
  if (!existsSync(MAIN)) execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'ignore' });
  root = mkdtempSync(join(tmpdir(), 'twofold-cli-'));
  dataDir = join(root, 'data');
  // Key file and schema are made once here, not by whichever of the concurrent commands below starts first.
  await withStore(async () => undefined);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

// Every test works on users of its own, so they run concurrently: each CLI run is a Node start-up.
describe.concurrent('help and usage', () => {
  it('--help describes every command group', async () => {
    const [top, user, add] = await Promise.all([twofold(['--help']), twofold(['user', '--help']), twofold(['user', 'add', '--help'])]);
    expect(top.code).toBe(0);
    for (const command of ['serve', 'user', 'sessions', 'config']) expect(top.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    for (const command of ['add', 'list', 'disable', 'enable', 'reset-factors'])
      expect(user.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    expect(add.stdout).toContain('--password-stdin');
  });

  it('an unknown command exits 2 with a hint to the help', async () => {
    const { code, stderr } = await twofold(['frobnicate']);
    expect(code).toBe(2);
    expect(stderr).toContain("twofold: unknown command 'frobnicate'");
    expect(stderr).toContain('--help');
  });
});

describe.concurrent('twofold user', () => {
  it('add reads the password from stdin and prints the new id', async () => {
    const added = await twofold(
      ['user', 'add', 'Alice', '--password-stdin', '--admin', '--display-name', 'Alice Liddell', '--email', 'a@example.com'],
      {
        input: `${PASSWORD}\n`,
      },
    );
    expect(added).toMatchObject({ code: 0, stderr: '' });
    const alice = await findUser('alice');
    expect(added.stdout).toBe(`${alice.id}\n`);
    expect(alice).toMatchObject({
      username: 'alice',
      displayName: 'Alice Liddell',
      email: 'a@example.com',
      isAdmin: true,
      disabled: false,
    });
    // The trailing newline of the piped input is not part of the password.
    await withStore(async (deps) => expect(await deps.hasher.verify(alice.passwordHash, PASSWORD)).toBe(true));
  });

  it('add refuses a password the policy rejects (exit 1)', async () => {
    const { code, stdout, stderr } = await twofold(['user', 'add', 'weak', '--password-stdin'], { input: 'password\n' });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^twofold: password refused: .*too common/);
  });

  it('add refuses a taken username, whatever its case (exit 1)', async () => {
    await seedUser('bob');
    const { code, stderr } = await twofold(['user', 'add', 'BOB', '--password-stdin'], { input: `${PASSWORD}\n` });
    expect(code).toBe(1);
    expect(stderr).toBe('twofold: the username "bob" is taken\n');
  });

  it('add without --password-stdin refuses to prompt when stdin is not a terminal (exit 2)', async () => {
    const { code, stderr } = await twofold(['user', 'add', 'carol']);
    expect(code).toBe(2);
    expect(stderr).toContain('twofold: stdin is not a terminal: pass --password-stdin');
  });

  it('list prints a table, or JSON with --json', async () => {
    const { userId } = await seedUser('list-me');
    const [table, asJson] = await Promise.all([twofold(['user', 'list']), twofold(['user', 'list', '--json'])]);
    expect(table.code).toBe(0);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual(['USERNAME', 'ADMIN', 'DISABLED', 'TOTP', 'RECOVERY CODES', 'CREATED']);
    const row = rows.map((line) => line.split(/\s{2,}/)).find((cells) => cells[0] === 'list-me');
    expect(row).toEqual(['list-me', 'no', 'no', 'no', '0', expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)]);
    const listed = json(asJson).find((u) => u.username === 'list-me');
    expect(listed).toEqual({
      id: userId,
      username: 'list-me',
      displayName: 'list-me',
      email: null,
      admin: false,
      disabled: false,
      totpEnrolled: false,
      recoveryCodesLeft: 0,
      createdAt: expect.any(String),
    });
  });

  it('disable ends all sessions of the user at once; enable lets them back', async () => {
    await seedUser('dave', 2);
    const { sessionIds: bystander } = await seedUser('dave-neighbour', 1);
    expect(await twofold(['user', 'disable', 'dave'])).toMatchObject({ code: 0, stdout: 'Disabled dave; ended 2 sessions.\n' });
    expect(await liveSessionIds('dave')).toEqual([]);
    expect(await liveSessionIds('dave-neighbour')).toEqual(bystander);
    expect(await findUser('dave')).toMatchObject({ disabled: true });

    expect(await twofold(['user', 'enable', 'dave'])).toMatchObject({ code: 0, stdout: 'Enabled dave.\n' });
    expect(await findUser('dave')).toMatchObject({ disabled: false });
  });

  it('reset-factors removes the authenticator and recovery codes and ends the sessions', async () => {
    await seedUser('erin');
    await withStore(async (deps) => {
      const erin = await requireUser(deps, 'erin');
      const { session } = await issueSession(deps, erin, 'enrollment', [{ method: 'pwd', at: deps.clock.now() }], CTX);
      const { secret } = await startTotpEnrollment(deps, erin, session, CTX);
      const code = generateTotp(decodeBase32(secret), deps.clock.now(), DEFAULT_TOTP_PARAMS);
      await confirmTotpEnrollment(deps, erin, session, { code, endOtherSessions: false }, CTX);
    });
    const enrolled = json(await twofold(['user', 'list', '--json'])).find((u) => u.username === 'erin');
    expect(enrolled).toMatchObject({ totpEnrolled: true, recoveryCodesLeft: 10 });

    const reset = await twofold(['user', 'reset-factors', 'erin']);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain('ended 1 session.');
    expect(reset.stdout).toContain('enroll a second factor at their next sign-in');
    await withStore(async (deps) => {
      const erin = await requireUser(deps, 'erin');
      expect(await deps.store.factors.findConfirmedTotp(erin.id)).toBeUndefined();
      expect(await deps.store.factors.countRecoveryCodesLeft(erin.id)).toBe(0);
      expect(await listSessions(deps, erin)).toEqual([]);
    });
  });

  it('reset-password prints a one-time link to the reset page, valid for an hour', async () => {
    await seedUser('ruth');
    const run = await twofold(['user', 'reset-password', 'ruth']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(
      /^Password reset link for ruth \(one use, expires .+\):\n\n {2}http:\/\/127\.0\.0\.1:8080\/reset-password\?token=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}\n$/,
    );
    const token = new URL(run.stdout.trim().split(/\s+/).pop()!).searchParams.get('token')!;
    await withStore(async (deps) => expect((await userOfResetLink(deps, token))?.username).toBe('ruth'));
  });

  it('an unknown user is a clear error (exit 1)', async () => {
    const runs = await Promise.all(['disable', 'reset-factors', 'reset-password'].map((command) => twofold(['user', command, 'nobody'])));
    for (const run of runs) expect(run).toMatchObject({ code: 1, stdout: '', stderr: 'twofold: No user named "nobody".\n' });
  });
});

describe.concurrent('twofold sessions', () => {
  it('list shows live sessions with user, assurance level and device; --user filters', async () => {
    const { userId, sessionIds } = await seedUser('frank', 1);
    const [all, mine, table] = await Promise.all([
      twofold(['sessions', 'list', '--json']),
      twofold(['sessions', 'list', '--user', 'frank', '--json']),
      twofold(['sessions', 'list', '--user', 'frank']),
    ]);
    expect(json(all).map((s) => s.id)).toContain(sessionIds[0]);
    expect(json(mine)).toEqual([
      expect.objectContaining({ id: sessionIds[0], user: 'frank', userId, aal: 2, ip: '203.0.113.7', browser: 'Firefox 128', os: 'Linux' }),
    ]);
    const [header, row, extra] = table.stdout.trimEnd().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual(['ID', 'USER', 'AAL', 'IP', 'DEVICE', 'CREATED', 'LAST SEEN', 'EXPIRES']);
    expect(row!.split(/\s{2,}/).slice(0, 5)).toEqual([sessionIds[0], 'frank', '2', '203.0.113.7', 'Firefox 128 on Linux']);
    expect(extra).toBeUndefined();
  });

  it('revoke ID ends that session only and records an audit event', async () => {
    const {
      userId,
      sessionIds: [first, second],
    } = await seedUser('grace', 2);
    expect(await twofold(['sessions', 'revoke', first!])).toMatchObject({ code: 0, stdout: `Revoked session ${first}.\n` });
    expect(await liveSessionIds('grace')).toEqual([second]);
    const events = await withStore((deps) => deps.store.events.list({ userId: userId as User['id'], limit: 10 }));
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'session.revoked', sessionId: first, reason: 'revoked_by_admin', ip: null }),
    );
  });

  it('revoke --user ends every session of the user', async () => {
    await seedUser('heidi', 3);
    expect(await twofold(['sessions', 'revoke', '--user', 'heidi'])).toMatchObject({ code: 0, stdout: 'Revoked 3 sessions of heidi.\n' });
    expect(await liveSessionIds('heidi')).toEqual([]);
  });

  it('revoke of an unknown id is a clear error (exit 1)', async () => {
    expect(await twofold(['sessions', 'revoke', 'ses_doesNotExist'])).toMatchObject({
      code: 1,
      stderr: 'twofold: no session with id "ses_doesNotExist"\n',
    });
  });

  it('revoke needs exactly one of ID and --user: otherwise a usage error (exit 2)', async () => {
    const runs = await Promise.all([[], ['ses_x', '--user', 'bob']].map((args) => twofold(['sessions', 'revoke', ...args])));
    for (const { code, stderr } of runs) {
      expect(code).toBe(2);
      expect(stderr).toContain('twofold: give either a session ID or --user NAME');
    }
  });
});

describe.concurrent('twofold config check', () => {
  it('prints the effective configuration as YAML, the encryption key masked', async () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const { code, stdout } = await twofold(['config', 'check'], {
      env: { TWOFOLD_ENCRYPTION_KEY: key, TWOFOLD_SESSION_IDLE_TIMEOUT: '45m' },
    });
    expect(code).toBe(0);
    expect(stdout).toContain(`data_dir: ${dataDir}\n`);
    expect(stdout).toMatch(/^session:\n {2}idle_timeout: 45m\n {2}absolute_lifetime: 12h\n/m);
    expect(stdout).toContain('encryption_key: "***"');
    expect(stdout).not.toContain(key);
  });

  it('honours -c/--config, before or after the command', async () => {
    const file = join(root, 'custom.yaml');
    writeFileSync(file, 'port: 9099\n');
    const runs = await Promise.all([twofold(['-c', file, 'config', 'check']), twofold(['config', 'check', '--config', file])]);
    for (const run of runs) expect(run.stdout).toContain('port: 9099\n');
  });

  it.each([
    ['a port that is not a number', { TWOFOLD_PORT: 'abc' }, 'TWOFOLD_PORT: expected a number, got "abc"'],
    ['a duration that is not one', { TWOFOLD_SESSION_IDLE_TIMEOUT: 'forever' }, 'session.idle_timeout: "forever" is not a duration'],
  ])('refuses %s, naming the key (exit 1)', async (_, env, problem) => {
    const { code, stdout, stderr } = await twofold(['config', 'check'], { env });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^twofold: invalid configuration:\n/);
    expect(stderr).toContain(`\n  ${problem}`);
  });

  it('lists every problem of a YAML file, unknown keys included (exit 1)', async () => {
    const file = join(root, 'bad.yaml');
    writeFileSync(file, 'bogus_setting: 1\nport: 70000\n');
    const { code, stderr } = await twofold(['-c', file, 'config', 'check']);
    expect(code).toBe(1);
    expect(stderr).toContain('\n  bogus_setting: unknown setting');
    expect(stderr).toContain('\n  port: ');
  });

  it('does not open the store', async () => {
    const elsewhere = join(root, 'never-created');
    expect(await twofold(['config', 'check'], { env: { TWOFOLD_DATA_DIR: elsewhere } })).toMatchObject({ code: 0 });
    expect(existsSync(elsewhere)).toBe(false);
  });
});
