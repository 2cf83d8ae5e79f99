import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createDeps } from '../../src/app.js';
import type { AuthDeps } from '../../src/auth/deps.js';
import { authenticate, issueSession, revokeSession } from '../../src/auth/sessions.js';
import { addUser } from '../../src/auth/users.js';
import { loadConfig } from '../../src/config.js';
import { hashToken } from '../../src/core/ids.js';
import { createTestDatabase, describeWithServices, type TestDatabase } from '../support/postgres.js';

/**
 * `twofold migrate --from sqlite:PATH --to postgres://…` moves a real installation: users, factors,
 * recovery codes, sessions (live and revoked) and the audit trail, with counts checked, and the
 * sessions keep working on PostgreSQL with the same tokens.
 */

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The built CLI, as test/cli runs it (`npm test` builds first). */
const CLI = [join(REPO, 'dist/src/cli/main.js')];
const CTX = { ip: '203.0.113.9', userAgent: 'migrate test' };

function twofold(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [...CLI, ...args], {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, TWOFOLD_LOG_LEVEL: 'silent' },
      stdio: 'pipe',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

describeWithServices('twofold migrate from SQLite to PostgreSQL', {}, () => {
  let dir: string;
  let target: TestDatabase;
  let sqliteDeps: AuthDeps;
  const tokens: { live: string; revoked: string } = { live: '', revoked: '' };
  let sourceEventCount = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'twofold-migrate-'));
    target = await createTestDatabase();
    sqliteDeps = await createDeps(loadConfig({ env: {}, cwd: dir, overrides: { data_dir: dir, log_level: 'silent' } }));
    const alice = await addUser(sqliteDeps, { username: 'alice', password: 'correct horse battery staple', isAdmin: true }, null);
    await addUser(sqliteDeps, { username: 'bob', password: 'another long passphrase', isAdmin: false }, null);
    await sqliteDeps.store.factors.savePendingTotp({
      id: 'tot_migrate',
      userId: alice.id,
      secretSealed: 'sealed-secret',
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
      confirmedAt: null,
      lastUsedStep: null,
      createdAt: Date.now(),
    });
    await sqliteDeps.store.factors.confirmTotp('tot_migrate', alice.id, 1000, ['rc1', 'rc2', 'rc3'], Date.now());
    tokens.live = (await issueSession(sqliteDeps, alice, 'full', [{ method: 'pwd', at: Date.now() }], CTX)).token;
    const revoked = await issueSession(sqliteDeps, alice, 'full', [{ method: 'pwd', at: Date.now() }], CTX);
    tokens.revoked = revoked.token;
    await revokeSession(sqliteDeps, revoked.session, 'logout', CTX);
    sourceEventCount = (await sqliteDeps.store.events.list({ limit: 1000 })).length;
    await sqliteDeps.store.close();
  });
  afterAll(async () => {
    await target?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('copies every table and prints matching counts', async () => {
    const run = await twofold(['migrate', '--from', `sqlite:${join(dir, 'twofold.db')}`, '--to', target.url], dir);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    const row = (table: string) => lines.find((l) => l.startsWith(`${table} `))?.split(/\s+/);
    expect(row('users')).toEqual(['users', '2', '2', 'ok']);
    expect(row('totp_factors')).toEqual(['totp_factors', '1', '1', 'ok']);
    expect(row('recovery_codes')).toEqual(['recovery_codes', '3', '3', 'ok']);
    expect(row('sessions')).toEqual(['sessions', '2', '2', 'ok']);
    expect(row('events')).toEqual(['events', String(sourceEventCount), String(sourceEventCount), 'ok']);
    expect(lines.filter((l) => l.includes('MISMATCH'))).toEqual([]);
    expect(run.stdout).toMatch(/counts match/);
  });

  it('the installation works on PostgreSQL: same tokens, same history, new ids after the copied ones', async () => {
    const deps = await createDeps(loadConfig({ env: {}, cwd: dir, overrides: { data_dir: dir, log_level: 'silent', store: target.url } }));
    try {
      expect(deps.config.store.kind).toBe('postgres');
      const live = await authenticate(deps, tokens.live);
      expect(live).toMatchObject({ kind: 'authenticated', user: { username: 'alice', isAdmin: true } });
      expect(await authenticate(deps, tokens.revoked)).toEqual({ kind: 'unauthenticated', reason: 'revoked' });
      expect(await deps.store.sessions.findByTokenHash(hashToken('not a token'))).toBeUndefined();
      const alice = (await deps.store.users.findByUsername('alice'))!;
      expect(await deps.store.factors.findConfirmedTotp(alice.id)).toMatchObject({ id: 'tot_migrate', lastUsedStep: 1000 });
      expect(await deps.store.factors.useRecoveryCode(alice.id, 'rc2', Date.now())).toBe(true);
      const before = await deps.store.events.list({ limit: 1000 });
      expect(before).toHaveLength(sourceEventCount);
      await deps.store.events.append({ ...before[0]!, id: undefined, type: 'after.migration' });
      const [newest] = await deps.store.events.list({ limit: 1 });
      expect(newest).toMatchObject({ type: 'after.migration', id: before[0]!.id! + 1 });
    } finally {
      await deps.store.close();
    }
  });

  it('refuses to copy into a database that already holds data', async () => {
    const run = await twofold(['migrate', '--from', `sqlite:${join(dir, 'twofold.db')}`, '--to', target.url], dir);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^twofold: migrate: the target database is not empty \(\w+ has \d+ rows\)\n$/);
  });

  it('usage: --from without --to, or a wrong scheme, exits 2', async () => {
    expect((await twofold(['migrate', '--from', 'sqlite:x.db'], dir)).code).toBe(2);
    expect((await twofold(['migrate', '--from', 'x.db', '--to', target.url], dir)).code).toBe(2);
  });

  it('migrate_on_start: false refuses an outdated schema; `twofold migrate` applies it, then the node starts', async () => {
    const fresh = await createTestDatabase();
    try {
      const config = loadConfig({
        env: {},
        cwd: dir,
        overrides: { data_dir: dir, log_level: 'silent', store: fresh.url, migrate_on_start: false },
      });
      await expect(createDeps(config)).rejects.toThrow(/schema is behind \(pending: 001-initial.*\); run "twofold migrate"/);
      const run = (env: Record<string, string>) =>
        new Promise<{ code: number; stdout: string }>((done) => {
          const child = spawn(process.execPath, [...CLI, 'migrate'], {
            cwd: dir,
            env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
          });
          let stdout = '';
          child.stdout.on('data', (d) => (stdout += d));
          child.on('close', (code) => done({ code: code ?? -1, stdout }));
        });
      const first = await run({ TWOFOLD_STORE: fresh.url });
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/^PostgreSQL: applied 001-initial, .*\.\n$/);
      expect(await run({ TWOFOLD_STORE: fresh.url })).toEqual({ code: 0, stdout: 'PostgreSQL: schema is current, nothing to apply.\n' });
      const deps = await createDeps(config);
      await deps.store.close();
    } finally {
      await fresh.drop();
    }
  });
});
