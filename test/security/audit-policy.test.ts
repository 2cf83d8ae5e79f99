import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * scripts/audit.mjs (npm run audit, run by .ci/run) on saved `npm audit --json` reports in npm 10's
 * shapes: high or critical advisories fail, lower ones pass, and an audit that could not be
 * performed (this registry mirror answers 405) is a loud failure, or a loud warning with exit 0 only
 * when TWOFOLD_AUDIT_OPTIONAL=1 (docs/security/dependencies.md).
 */

const SCRIPT = resolve(import.meta.dirname, '../../scripts/audit.mjs');
const dir = mkdtempSync(join(tmpdir(), 'twofold-audit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function audit(report: unknown, optional = false) {
  const file = join(dir, `report-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, typeof report === 'string' ? report : JSON.stringify(report));
  const env: NodeJS.ProcessEnv = { ...process.env, TWOFOLD_AUDIT_REPORT: file };
  delete env.TWOFOLD_AUDIT_OPTIONAL;
  if (optional) env.TWOFOLD_AUDIT_OPTIONAL = '1';
  const run = spawnSync(process.execPath, [SCRIPT], { env, encoding: 'utf8' });
  return { code: run.status, out: run.stdout + run.stderr };
}

const counts = (levels: Partial<Record<'info' | 'low' | 'moderate' | 'high' | 'critical', number>>) => {
  const all = { info: 0, low: 0, moderate: 0, high: 0, critical: 0, ...levels };
  return { ...all, total: Object.values(all).reduce((a, b) => a + b, 0) };
};
const vulnerability = (name: string, severity: string) => ({
  name,
  severity,
  isDirect: false,
  via: [
    {
      source: 1,
      name,
      dependency: name,
      title: `Prototype Pollution in ${name}`,
      url: `https://github.com/advisories/GHSA-${name}`,
      severity,
      range: '<1.2.4',
    },
  ],
  effects: [],
  range: '<1.2.4',
  nodes: [`node_modules/${name}`],
  fixAvailable: true,
});
const report = (vulnerabilities: Record<string, unknown>, levels: Parameters<typeof counts>[0]) => ({
  auditReportVersion: 2,
  vulnerabilities,
  metadata: { vulnerabilities: counts(levels), dependencies: { prod: 212, dev: 190, optional: 14, peer: 0, peerOptional: 0, total: 402 } },
});
/** What this machine's registry mirror answers. */
const MIRROR_405 = {
  message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
  method: 'POST',
  uri: 'https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
  statusCode: 405,
  body: '',
  error: { summary: '', detail: '' },
};

describe('npm run audit', () => {
  it('passes a clean audit and one with only low or moderate advisories', () => {
    expect(audit(report({}, {})).code).toBe(0);
    const moderate = audit(report({ a: vulnerability('a', 'moderate') }, { moderate: 1 }));
    expect(moderate.code).toBe(0);
    expect(moderate.out).toContain('no high or critical advisories');
  });

  it('fails on a high or critical advisory and names it', () => {
    for (const severity of ['high', 'critical']) {
      const result = audit(report({ minimist: vulnerability('minimist', severity) }, { [severity]: 1 }));
      expect(result.code).toBe(1);
      expect(result.out).toContain(`${severity.toUpperCase()} minimist`);
      expect(result.out).toContain('https://github.com/advisories/GHSA-minimist');
    }
  });

  it('an audit that could not be performed is not a pass', () => {
    const refused = audit(MIRROR_405);
    expect(refused.code).toBe(2);
    expect(refused.out).toContain('COULD NOT BE PERFORMED');
    expect(refused.out).toContain('405 Method Not Allowed');
    expect(audit('npm error network request failed').code).toBe(2);
  });

  it('TWOFOLD_AUDIT_OPTIONAL=1 continues without an audit, still loudly, and never hides a finding', () => {
    const skipped = audit(MIRROR_405, true);
    expect(skipped.code).toBe(0);
    expect(skipped.out).toContain('WITHOUT an audit');
    expect(audit(report({ minimist: vulnerability('minimist', 'critical') }, { critical: 1 }), true).code).toBe(1);
  });
});
