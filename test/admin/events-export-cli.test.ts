import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeps } from '../../src/app.js';
import { signInWithPassword } from '../../src/auth/sign-in.js';
import { addUser } from '../../src/auth/users.js';
import { loadConfig } from '../../src/config.js';
import { CLI_MAIN as MAIN, runCli, type CliRun } from '../support/cli.js';

/** `twofold events export` as an operator runs it: the built CLI in a child process over a real SQLite file. */

const REPO = resolve(import.meta.dirname, '../..');
let root: string;

/** The built CLI on this file's data dir (test/support/cli.ts). */
const twofold = (args: string[]): Promise<CliRun> => runCli(args, { root, dataDir: join(root, 'data') });

describe('twofold events export', () => {
  beforeAll(async () => {
    if (!existsSync(MAIN)) execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'ignore' });
    root = mkdtempSync(join(tmpdir(), 'twofold-events-cli-'));
    const config = loadConfig({ env: {}, cwd: root, overrides: { data_dir: join(root, 'data'), log_level: 'silent' } });
    const deps = await createDeps(config);
    try {
      await addUser(deps, { username: 'alice', password: 'correct horse battery staple', isAdmin: false }, null);
      await addUser(deps, { username: 'bob', password: 'correct horse battery staple', isAdmin: false }, null);
      const ctx = { ip: '203.0.113.7', userAgent: '=HYPERLINK("http://evil.example","x"), "quoted"' };
      await signInWithPassword(deps, { username: 'alice', password: 'correct horse battery staple' }, ctx);
      await signInWithPassword(deps, { username: 'bob', password: 'wrong, "with" a comma' }, ctx).catch(() => undefined);
    } finally {
      await deps.store.close();
    }
  });
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('writes JSON Lines by default, newest first, filtered by time, type and user', async () => {
    const all = await twofold(['events', 'export', '--since', '1h']);
    expect(all.code, all.stderr).toBe(0);
    const events = all.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events.map((e) => e.type)).toEqual([
      'login.password',
      'session.created',
      'risk.decision',
      'login.password',
      'user.created',
      'user.created',
    ]);
    expect(events[0]).toMatchObject({ username: 'bob', outcome: 'failure', reason: 'wrong_password', ip: '203.0.113.7' });
    expect(JSON.stringify(events)).not.toContain('with" a comma');

    const alice = await twofold(['events', 'export', '--type', 'login.*', '--user', 'alice']);
    expect(
      alice.stdout
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).type),
    ).toEqual(['login.password']);
    expect((await twofold(['events', 'export', '--since', '2999-01-01'])).stdout).toBe('');
  });

  it('writes CSV with a header, quoting and a guard against spreadsheet formulas', async () => {
    const csv = await twofold(['events', 'export', '--since', '24h', '--format', 'csv', '--outcome', 'failure']);
    expect(csv.code, csv.stderr).toBe(0);
    const lines = csv.stdout.split('\r\n');
    expect(lines[0]).toBe('id,at,type,outcome,user_id,username,session_id,ip,user_agent,reason,detail');
    expect(lines).toHaveLength(3); // header, bob's failure, and the empty string after the last CRLF
    expect(lines[1]).toContain(`,login.password,failure,`);
    expect(lines[1]).toContain(`"'=HYPERLINK(""http://evil.example"",""x""), ""quoted"""`);
  });

  it('writes to a file readable by its owner only', async () => {
    const file = join(root, 'out.jsonl');
    const run = await twofold(['events', 'export', '--output', file]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toBe('');
    expect(readFileSync(file, 'utf8').trimEnd().split('\n')).toHaveLength(6);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('refuses a time or format it cannot read with a usage error (exit 2)', async () => {
    const since = await twofold(['events', 'export', '--since', 'last tuesday']);
    expect(since.code).toBe(2);
    expect(since.stderr).toContain('--since "last tuesday"');
    expect((await twofold(['events', 'export', '--format', 'xml'])).code).toBe(2);
    expect((await twofold(['events', 'export', '--outcome', 'maybe'])).code).toBe(2);
  });
});
