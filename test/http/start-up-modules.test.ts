import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * A single node on SQLite loads no driver for a server it does not use: the PostgreSQL and Redis
 * clients, the mailer and the passkey library are loaded when configured or first used (their
 * memory counts against every gate node's RSS). Checked in a fresh process on the built server:
 * a module loader hook records every ES module loaded, require.cache every CommonJS one.
 */
const DIST = fileURLToPath(new URL('../../dist/src/', import.meta.url));

const script = `
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const dist = process.argv[1];
const { createDeps } = await import(dist + 'app.js');
const { loadConfig } = await import(dist + 'config.js');
const { buildServer } = await import(dist + 'http/server.js');
const dataDir = mkdtempSync(join(tmpdir(), 'twofold-modules-'));
const config = loadConfig({ env: {}, cwd: dataDir, overrides: { data_dir: dataDir, log_level: 'silent', geoip: { city_db: '' } } });
const deps = await createDeps(config);
const app = await buildServer(deps, { logger: false });
await app.ready();
await app.inject({ method: 'GET', url: '/auth/request', headers: { 'x-original-url': 'https://app.example.com/' } });
await app.inject({ method: 'GET', url: '/login' });
const loaded = [...Object.keys(createRequire(import.meta.url).cache), ...readFileSync(process.argv[2], 'utf8').split('\\n')];
const packages = ['pg', 'ioredis', 'nodemailer', '@simplewebauthn/server'].filter((name) => loaded.some((p) => p.includes('/node_modules/' + name + '/')));
await app.close();
await deps.store.close();
rmSync(dataDir, { recursive: true, force: true });
const esm = loaded.filter((p) => p.startsWith('file:')).length;
console.log(JSON.stringify({ packages, cached: loaded.length, esm }));
`;

describe('start-up of a single SQLite node', () => {
  it('loads neither the PostgreSQL nor the Redis driver, the mailer or the passkey library', () => {
    expect(existsSync(`${DIST}app.js`), 'needs dist/: run npm run build (npm test does)').toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'twofold-hooks-'));
    try {
      const loadedFile = join(dir, 'loaded.txt');
      writeFileSync(loadedFile, '');
      writeFileSync(
        join(dir, 'hooks.mjs'),
        `import { appendFileSync } from 'node:fs';
let out;
export async function initialize(data) { out = data.out; }
export async function load(url, context, next) { appendFileSync(out, url + '\\n'); return next(url, context); }`,
      );
      writeFileSync(
        join(dir, 'register.mjs'),
        `import { register } from 'node:module';
register(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)}, { data: { out: ${JSON.stringify(loadedFile)} } });`,
      );
      const run = spawnSync(
        process.execPath,
        ['--import', pathToFileURL(join(dir, 'register.mjs')).href, '--input-type=module', '-e', script, DIST, loadedFile],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
      expect(run.status, run.stderr).toBe(0);
      const result = JSON.parse(run.stdout.trim().split('\n').pop()!);
      // Both views see modules (fastify's CommonJS ones, twofold's own ES modules), so an empty answer is not a blind spot.
      expect(result.cached).toBeGreaterThan(50);
      expect(result.esm).toBeGreaterThan(50);
      expect(result.packages).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
