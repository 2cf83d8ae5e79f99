import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * docs/security/ASVS.md stays true: scripts/check-asvs.mjs (also `npm run check:asvs`) finds every
 * test the checklist cites, with exactly that title, so renaming or deleting a proof fails CI.
 */

const REPO = resolve(import.meta.dirname, '../..');
const SCRIPT = join(REPO, 'scripts/check-asvs.mjs');
const run = promisify(execFile);

async function check(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [SCRIPT, ...args], { cwd: REPO });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('docs/security/ASVS.md', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'twofold-asvs-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('every test it cites exists with exactly that title, and its statuses and summary add up', async () => {
    const result = await check([]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^docs\/security\/ASVS\.md: 80 requirements \(\d+ Met, \d+ Partly met, \d+ Not applicable, \d+ Gap\); \d+ cited tests in \d+ files all exist\.\n$/,
    );
  });

  it('the check fails, naming each problem: a missing file, a missing or skipped title, a bad status, an unproven Met, a wrong total', async () => {
    mkdirSync(join(scratch, 'test/x'), { recursive: true });
    writeFileSync(
      join(scratch, 'test/x/real.test.ts'),
      [
        "describe('outer', () => {",
        "  it('is here', () => {});",
        '  it("says \\"quoted\\" words", () => {});',
        "  it.concurrent('runs concurrently', () => {});",
        "  it.skip('is skipped', () => {});",
        '});',
      ].join('\n'),
    );
    writeFileSync(
      join(scratch, 'ASVS.md'),
      [
        '| **total (5)** | **2** | **0** | **0** | **0** |',
        '| ID | what | status | how | proof |',
        '| V1.1.1 | a | Met | b | `test/x/real.test.ts > is here`<br>`test/x/real.test.ts > says "quoted" words`<br>`test/x/real.test.ts > runs concurrently` |',
        '| V1.1.2 | a | Met | b | `test/x/real.test.ts > is skipped` |',
        '| V1.1.3 | a | Met | b | `test/x/real.test.ts > is not here`<br>`test/x/gone.test.ts > anything` |',
        '| V1.1.4 | a | Done | b | — |',
        '| V1.1.5 | a | Partly met | b | — |',
      ].join('\n'),
    );
    const result = await check(['--root', scratch, '--doc', 'ASVS.md']);
    expect(result.code).toBe(1);
    const problems = result.stderr
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.trim());
    expect(problems).toEqual([
      'ASVS.md:4: test/x/real.test.ts has no test titled "is skipped"',
      'ASVS.md:5: test/x/real.test.ts has no test titled "is not here"',
      'ASVS.md:5: test/x/gone.test.ts does not exist (cited for "anything")',
      'ASVS.md:6: V1.1.4 has status "Done", not one of Met, Partly met, Not applicable, Gap',
      'ASVS.md:7: V1.1.5 is Partly met but cites no test',
      'ASVS.md: the summary says total 5, 2, 0, 0, 0, the rows say 5, 3, 1, 0, 0 (rows, Met, Partly met, Not applicable, Gap)',
    ]);
  });

  it('--titles prints a file’s test titles ready to cite', async () => {
    const result = await check(['--titles', 'test/security/asvs-doc.test.ts']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('`test/security/asvs-doc.test.ts > --titles prints a file’s test titles ready to cite`\n');
  });
});
