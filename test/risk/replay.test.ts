import { execFile } from 'node:child_process';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { RbaCsvError, parseTimestamp, readRbaCsv, splitCsvLine } from '../../src/risk/rba-csv.js';
import { replay } from '../../src/risk/replay.js';

const REPO = resolve(import.meta.dirname, '../..');
const MAIN = join(REPO, 'dist/src/cli/main.js');
const SMALL = join(import.meta.dirname, 'fixtures/small.csv');
const MALFORMED = join(import.meta.dirname, 'fixtures/malformed.csv');
/** The first rows of the public RBA data set (Wiefling et al., CC BY 4.0; fixtures/README.md). */
const RBA_HEAD = join(import.meta.dirname, 'fixtures/rba-dataset-head.csv');
const engine = { model: 'twofold' as const, thresholds: { medium: 1, high: 3, veryHigh: 5 } };
const tmp = mkdtempSync(join(tmpdir(), 'twofold-replay-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function replayToText(path: string, options: Partial<Parameters<typeof replay>[2]> = {}) {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const summary = await replay(createReadStream(path), out, { engine, ...options });
  return { summary, text: Buffer.concat(chunks).toString('utf8') };
}

describe('RBA CSV reading', () => {
  it('splits quoted fields with commas and doubled quotes', () => {
    expect(splitCsvLine('a,"b, c",,"say ""hi""",e')).toEqual(['a', 'b, c', '', 'say "hi"', 'e']);
    expect(splitCsvLine('a,"open')).toBeNull();
  });

  it("parses the data set's timestamps as UTC", () => {
    expect(parseTimestamp('2020-02-03 12:43:30.772')).toBe(Date.UTC(2020, 1, 3, 12, 43, 30, 772));
    expect(parseTimestamp('2020-02-03T12:43:30Z')).toBe(Date.UTC(2020, 1, 3, 12, 43, 30));
    expect(parseTimestamp('yesterday')).toBeNaN();
  });

  it('reads every row of the small fixture, label columns aside', async () => {
    const rows = [];
    for await (const row of readRbaCsv(createReadStream(SMALL))) rows.push(row);
    expect(rows).toHaveLength(9);
    expect(rows[0]!.context.userAgent).toContain('Chrome/85.0.4183.121');
    expect(rows[0]!.context.browser).toBe('Chrome 85.0.4183');
    expect(rows[6]!.success).toBe(false);
    expect(rows[0]!.line).toBe(2);
  });
});

describe('risk replay', () => {
  it('scores each row against earlier successful rows and writes index,score,decision', async () => {
    const { summary, text } = await replayToText(SMALL);
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('index,score,decision');
    expect(summary).toMatchObject({ rows: 9, malformed: 0 });
    const score = new Map(lines.slice(1).map((l) => [l.split(',')[0]!, Number(l.split(',')[1])]));
    for (const l of lines.slice(1)) expect(l).toMatch(/^\d+,-?\d+\.\d{4},(allow|second_factor|phishing_resistant_or_deny|deny)$/);
    // Row 7 (Russia, a phone never seen, at 03:00) is riskier than row 8 (home, usual laptop, usual
    // hour) by more than a factor of 10, even on a history of four sign-ins.
    expect(score.get('7')! - score.get('8')!).toBeGreaterThan(1);
    expect(lines[8]).toMatch(/^7,.*,(second_factor|phishing_resistant_or_deny|deny)$/);
    expect(lines[9]).toMatch(/^8,.*,allow$/);
  });

  it('stops at the first malformed line with a message naming it', async () => {
    const err = await replayToText(MALFORMED).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RbaCsvError);
    expect((err as Error).message).toBe('line 3: expected 16 fields like the header, found 15');
  });

  it('can report every malformed line and go on', async () => {
    const messages: string[] = [];
    const { summary, text } = await replayToText(MALFORMED, { onMalformed: (e) => messages.push(e.message) });
    expect(messages).toEqual([
      'line 3: expected 16 fields like the header, found 15',
      'line 4: "yesterday" is not a timestamp (expected YYYY-MM-DD HH:MM:SS.mmm)',
      'line 5: unbalanced quotes (a quoted field must close on the same line)',
      'line 6: Login Successful is "maybe", expected True or False',
      'line 7: timestamp earlier than the previous row; sort the file by Login Timestamp first',
    ]);
    expect(summary).toMatchObject({ rows: 2, malformed: 5 });
    expect(
      text
        .trim()
        .split('\n')
        .map((l) => l.split(',')[0]),
    ).toEqual(['index', '0', '6']);
  });

  it('names a missing column', async () => {
    const input = new PassThrough();
    input.end('index,Login Timestamp,User ID\n0,2020-02-03 08:00:00.000,1\n');
    const err = await replay(input, new PassThrough(), { engine }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^line 1: header lacks columns "IP Address", "Country", /);
  });
});

describe('the RBA data set head (Wiefling et al., CC BY 4.0)', () => {
  it('replays through the built CLI with both models', async () => {
    expect(existsSync(MAIN), 'run npm run build first').toBe(true);
    const rows = readFileSync(RBA_HEAD, 'utf8').trim().split('\n').length - 1;
    for (const model of ['freeman', 'twofold']) {
      const output = join(tmp, `${model}.csv`);
      const { stderr } = await promisify(execFile)(
        process.execPath,
        [MAIN, 'risk', 'replay', '--input', RBA_HEAD, '--output', output, '--model', model],
        {
          env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TWOFOLD_'))),
          cwd: tmp,
        },
      );
      expect(stderr).toContain(`replayed ${rows} rows with the ${model} model`);
      const out = readFileSync(output, 'utf8').trim().split('\n');
      expect(out).toHaveLength(rows + 1);
      expect(out.slice(1).map((l) => l.split(',')[0])).toEqual(Array.from({ length: rows }, (_, i) => String(i)));
    }
  });

  it('exits 1 naming the line of a malformed file', async () => {
    const run = await promisify(execFile)(
      process.execPath,
      [MAIN, 'risk', 'replay', '--input', MALFORMED, '--output', join(tmp, 'x.csv')],
      { cwd: tmp },
    ).catch((e: { code: number; stderr: string }) => e);
    expect(run).toMatchObject({ code: 1 });
    expect((run as { stderr: string }).stderr).toBe(`twofold: ${MALFORMED}: line 3: expected 16 fields like the header, found 15\n`);
  });
});
