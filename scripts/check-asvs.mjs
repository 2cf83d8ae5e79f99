#!/usr/bin/env node
// Checks docs/security/ASVS.md against the test suite (plain Node, no dependencies):
//   - every cited test, written `test/path/file.test.ts > exact it() title`, names a file that exists
//     and a test in it (it(...) or test(...), not .skip/.todo) with exactly that title;
//   - every requirement row has a status of the legend, and a Met or Partly met row cites a test.
// Exits 1 listing every problem; 0 with a summary. `--titles FILE` prints the test titles of FILE
// as they must be cited. Options: --doc PATH (default docs/security/ASVS.md), --root DIR (default .).
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const STATUSES = ['Met', 'Partly met', 'Not applicable', 'Gap'];

/** Reads a JS string literal starting at `start` (a quote); returns its value and end, or null for `${…}` templates. */
function readLiteral(source, start) {
  const quote = source[start];
  let value = '';
  for (let i = start + 1; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      const next = source[++i];
      value += { n: '\n', t: '\t', r: '\r' }[next] ?? next;
    } else if (quote === '`' && c === '$' && source[i + 1] === '{') {
      return null;
    } else if (c === quote) {
      return { value, end: i + 1 };
    } else {
      value += c;
    }
  }
  return null;
}

/** The titles of the tests a file declares: it('…') / test("…") / it.concurrent(`…`), not skipped or todo ones. */
export function testTitles(source) {
  const titles = new Set();
  const call = /(?<![\w.$])(?:it|test)((?:\.(?:only|concurrent|sequential|fails|skip|todo|skipIf\([^)]*\)|runIf\([^)]*\)))*)\s*\(\s*/g;
  for (let m = call.exec(source); m; m = call.exec(source)) {
    if (/\.(skip|todo)\b/.test(m[1])) continue;
    const at = m.index + m[0].length;
    if (!`'"\``.includes(source[at])) continue;
    const literal = readLiteral(source, at);
    if (literal) titles.add(literal.value);
  }
  return titles;
}

/** Citations in the document: `test/….test.ts > title` code spans, with the line they are on. */
export function citations(doc) {
  const found = [];
  doc.split('\n').forEach((line, index) => {
    for (const m of line.matchAll(/`(test\/[^`\s]+?\.test\.ts) > ([^`]+)`/g)) found.push({ file: m[1], title: m[2], line: index + 1 });
  });
  return found;
}

/** Requirement rows: a table row whose first cell is an ASVS id (V6.2.9) or a NIST rule (800-63B §…). */
export function requirementRows(doc) {
  const rows = [];
  doc.split('\n').forEach((line, index) => {
    const cells = line.split(' | ').map((cell) => cell.replace(/^\|\s*|\s*\|$/g, '').trim());
    if (!line.startsWith('| ') || !/^(\*\*)?(V\d+\.\d+\.\d+|800-63B §)/.test(cells[0] ?? '')) return;
    const status = (cells[2] ?? '').replace(/\*\*/g, '').trim();
    rows.push({ id: cells[0].replace(/\*\*/g, ''), status, line: index + 1, cites: /`test\/[^`]+\.test\.ts > /.test(line) });
  });
  return rows;
}

export function checkAsvs({ root = '.', doc = 'docs/security/ASVS.md' } = {}) {
  const problems = [];
  const text = readFileSync(resolve(root, doc), 'utf8');
  const cache = new Map();
  const cited = citations(text);
  for (const { file, title, line } of cited) {
    const path = join(root, file);
    if (!cache.has(file)) cache.set(file, existsSync(path) ? testTitles(readFileSync(path, 'utf8')) : null);
    const titles = cache.get(file);
    if (titles === null) problems.push(`${doc}:${line}: ${file} does not exist (cited for "${title}")`);
    else if (!titles.has(title)) problems.push(`${doc}:${line}: ${file} has no test titled "${title}"`);
  }
  const rows = requirementRows(text);
  for (const row of rows) {
    const status = STATUSES.find((s) => row.status === s);
    if (!status) problems.push(`${doc}:${row.line}: ${row.id} has status "${row.status}", not one of ${STATUSES.join(', ')}`);
    else if ((status === 'Met' || status === 'Partly met') && !row.cites)
      problems.push(`${doc}:${row.line}: ${row.id} is ${status} but cites no test`);
  }
  const counts = Object.fromEntries(STATUSES.map((s) => [s, rows.filter((r) => r.status === s).length]));
  // The summary's total row must say what the rows say: | **total (N)** | met | partly | n/a | gap |
  const total = /^\| \*\*total \((\d+)\)\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \|/m.exec(text);
  const actual = [rows.length, ...STATUSES.map((s) => counts[s])];
  if (!total) problems.push(`${doc}: no summary row "| **total (N)** | **met** | **partly** | **n/a** | **gap** |"`);
  else if (total.slice(1).map(Number).join() !== actual.join())
    problems.push(
      `${doc}: the summary says total ${total.slice(1).join(', ')}, the rows say ${actual.join(', ')} (rows, ${STATUSES.join(', ')})`,
    );
  return { problems, citations: cited.length, files: cache.size, rows: rows.length, counts };
}

function main(argv) {
  const option = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const root = option('--root') ?? '.';
  const listFile = option('--titles');
  if (listFile) {
    for (const title of testTitles(readFileSync(resolve(root, listFile), 'utf8'))) process.stdout.write(`\`${listFile} > ${title}\`\n`);
    return 0;
  }
  const doc = option('--doc') ?? 'docs/security/ASVS.md';
  const result = checkAsvs({ root, doc });
  if (result.problems.length > 0) {
    process.stderr.write(`${doc}: ${result.problems.length} problem(s):\n${result.problems.map((p) => `  ${p}\n`).join('')}`);
    return 1;
  }
  const counts = Object.entries(result.counts)
    .map(([status, n]) => `${n} ${status}`)
    .join(', ');
  process.stdout.write(
    `${doc}: ${result.rows} requirements (${counts}); ${result.citations} cited tests in ${result.files} files all exist.\n`,
  );
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) process.exitCode = main(process.argv.slice(2));
