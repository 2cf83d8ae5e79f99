import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { classify, collectLicences, OUTPUT, renderLicences, ROOT } from '../../scripts/licences.mjs';

/**
 * docs/licences.md lists the licence of every production dependency and of the bundled data; it
 * must be current (regenerated here in memory and compared) and every licence acceptable: no
 * missing or unknown licence, no strong copyleft (scripts/licences.mjs says the policy).
 */

describe('docs/licences.md', () => {
  const report = collectLicences();

  it('is current: npm run licences would not change it', () => {
    const committed = readFileSync(join(ROOT, OUTPUT), 'utf8');
    expect(committed === renderLicences(report), `${OUTPUT} is stale: run npm run licences`).toBe(true);
  });

  it('every production dependency has a known licence, none strong copyleft', () => {
    expect(report.problems).toEqual([]);
    expect(report.packages.length).toBeGreaterThan(50);
    expect(report.packages.find((p) => p.name === 'fastify')?.license).toBe('MIT');
    // Dev-only tools are not shipped, so not listed.
    expect(report.packages.some((p) => p.name === 'vitest' || p.name === 'typescript')).toBe(false);
  });

  it('names the bundled data with its licence and attribution', () => {
    const text = readFileSync(join(ROOT, OUTPUT), 'utf8');
    expect(text).toContain('IP Geolocation by DB-IP');
    expect(text).toContain('Login Data Set for Risk-Based Authentication');
    expect(report.data.every((d) => d.license === 'CC-BY-4.0')).toBe(true);
  });
});

describe('the licence policy', () => {
  it('classes SPDX expressions: OR takes the best alternative, AND the worst part', () => {
    expect(classify('MIT')).toBe('permissive');
    expect(classify('(MIT OR GPL-3.0-only)')).toBe('permissive');
    expect(classify('MIT AND GPL-3.0-only')).toBe('strong-copyleft');
    expect(classify('GPL-2.0+')).toBe('strong-copyleft');
    expect(classify('AGPL-3.0-or-later')).toBe('strong-copyleft');
    expect(classify('MPL-2.0')).toBe('weak-copyleft');
    expect(classify('UNLICENSED')).toBe('unknown');
    expect(classify('SEE LICENSE IN LICENSE.txt')).toBe('unknown');
    expect(classify(undefined)).toBe('unknown');
  });

  const dir = mkdtempSync(join(tmpdir(), 'twofold-licences-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a copyleft or licence-less production dependency, and ignores dev-only ones', () => {
    const install = (name: string, manifest: Record<string, unknown>) => {
      mkdirSync(join(dir, 'node_modules', name), { recursive: true });
      writeFileSync(join(dir, 'node_modules', name, 'package.json'), JSON.stringify({ name, version: '1.0.0', ...manifest }));
    };
    install('copyleft', { license: 'GPL-3.0-only' });
    install('nolicence', {});
    install('devtool', { license: 'AGPL-3.0-only' });
    install('fine', { license: 'MIT' });
    writeFileSync(
      join(dir, 'package-lock.json'),
      JSON.stringify({
        lockfileVersion: 3,
        packages: {
          '': { name: 'x' },
          'node_modules/copyleft': { version: '1.0.0', license: 'GPL-3.0-only' },
          'node_modules/nolicence': { version: '1.0.0' },
          'node_modules/devtool': { version: '1.0.0', license: 'AGPL-3.0-only', dev: true },
          'node_modules/fine': { version: '1.0.0', license: 'MIT' },
        },
      }),
    );
    const problems = collectLicences(dir).problems.filter((p) => !p.startsWith('bundled data'));
    expect(problems).toEqual(['copyleft@1.0.0: strong copyleft licence GPL-3.0-only', 'nolicence@1.0.0: missing or unknown licence null']);
  });
});
