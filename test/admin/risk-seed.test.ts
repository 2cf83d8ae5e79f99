import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeps } from '../../src/app.js';
import { adminOverview } from '../../src/admin/admin-overview.js';
import { searchSessions } from '../../src/admin/admin-sessions.js';
import type { AuthDeps } from '../../src/auth/deps.js';
import { loadConfig } from '../../src/config.js';
import { CLI_MAIN as MAIN, runCli, type CliRun } from '../support/cli.js';

/**
 * `twofold risk simulate` then `twofold risk seed`, as an operator runs them (the built CLI in child
 * processes over a real SQLite file): the simulated sign-ins go through the real sign-in use cases,
 * and the admin console's own queries then see sign-ins by outcome, risk decisions, countries and
 * live sessions.
 */

const REPO = resolve(import.meta.dirname, '../..');
let root: string;

/** The built CLI on this file's data dir (test/support/cli.ts). */
const twofold = (args: string[]): Promise<CliRun> =>
  runCli(args, { root, dataDir: join(root, 'data') }, { env: { TWOFOLD_LOG_LEVEL: 'silent' } });

describe('twofold risk seed', () => {
  let summary: { rows: number; users: number; outcomes: Record<string, number>; from: string; until: string };
  let deps: AuthDeps;

  beforeAll(async () => {
    if (!existsSync(MAIN)) execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'ignore' });
    root = mkdtempSync(join(tmpdir(), 'twofold-seed-cli-'));
    const simulated = await twofold([
      'risk',
      'simulate',
      '--output',
      'sim.csv',
      '--labels',
      'labels.csv',
      '--users',
      '20',
      '--days',
      '3',
      '--attacks',
      '3',
    ]);
    expect(simulated.code, simulated.stderr).toBe(0);
    const seeded = await twofold(['risk', 'seed', '--input', 'sim.csv', '--labels', 'labels.csv', '--limit', '200']);
    expect(seeded.code, seeded.stderr).toBe(0);
    summary = JSON.parse(seeded.stdout);
    deps = await createDeps(loadConfig({ env: {}, cwd: root, overrides: { data_dir: join(root, 'data'), log_level: 'silent' } }));
  }, 120_000);
  afterAll(async () => {
    await deps?.store.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('plays every row through the sign-in use cases and says how each ended', async () => {
    expect(summary.rows).toBeGreaterThan(10);
    expect(summary.rows).toBeLessThanOrEqual(200);
    expect(Object.values(summary.outcomes).reduce((a, b) => a + b, 0)).toBe(summary.rows);
    // A simulated user enrolls TOTP at its first right password, then signs in with codes; typos
    // and credential stuffing fail at the password; attackers with the password fail at the code.
    expect(summary.outcomes.enrolled).toBeGreaterThan(0);
    expect(summary.outcomes.enrolled).toBeLessThanOrEqual(summary.users);
    expect(summary.outcomes.authenticated).toBeGreaterThan(0);
    expect(summary.outcomes.wrong_password).toBeGreaterThan(0);
    expect(summary.outcomes.second_factor_failed).toBeGreaterThan(0);
    // The last row is "now": the console's default range shows it.
    expect(Date.now() - Date.parse(summary.until)).toBeLessThan(60_000);

    const users = await deps.store.admin.searchUsers('sim-', 100);
    expect(users).toHaveLength(summary.users);
    const passwordSteps = await deps.store.admin.searchEvents({ types: ['login.password'], limit: 1000 });
    // One password step per row, except rows refused before the password (rate limits).
    const refusedEarly = summary.outcomes.rate_limited ?? 0;
    expect(passwordSteps).toHaveLength(summary.rows - refusedEarly);
    expect(new Set(passwordSteps.map((e) => e.ip)).size).toBeGreaterThan(3);
    expect(new Set(passwordSteps.map((e) => e.userAgent)).size).toBeGreaterThan(2);
  });

  it('gives the admin overview charts data: outcomes over time, risk decisions, live sessions', async () => {
    const o = await adminOverview(deps, '7d');
    expect(o.totals.success).toBeGreaterThan(0);
    expect(o.risk!.decisions).toBeGreaterThan(0);
    expect(o.risk!.histogram.counts.reduce((a: number, b: number) => a + b, 0)).toBe(o.risk!.decisions);
    expect(o.activeSessions).toBeGreaterThan(0);
    const nonEmptyBuckets = Object.values(o.signIns.series)
      .flat()
      .filter((n) => n > 0);
    expect(nonEmptyBuckets.length).toBeGreaterThan(1);

    // Sessions carry the sign-in's risk verdict, so the console can filter them by it.
    const { sessions } = await searchSessions(deps, {});
    expect(sessions.length).toBe(o.activeSessions);
    expect(sessions.some((s) => s.origin?.riskBand)).toBe(true);
  });
});
