// RSS of a started twofold after GC (createDeps + buildServer, SQLite, nothing optional configured).
// node --expose-gc bench/experiments/start-rss.mjs /abs/path/to/dist [city_db: builtin | ""]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const dist = process.argv[2];
const { createDeps } = await import(`${dist}/src/app.js`);
const { loadConfig } = await import(`${dist}/src/config.js`);
const { buildServer } = await import(`${dist}/src/http/server.js`);
const dataDir = mkdtempSync(join(tmpdir(), 'twofold-rss-'));
const cityDb = process.argv[3] ?? 'builtin';
const config = loadConfig({ env: {}, cwd: dataDir, overrides: { data_dir: dataDir, log_level: 'silent', geoip: { city_db: cityDb } } });
const deps = await createDeps(config);
const app = await buildServer(deps, { logger: false });
await app.ready();
globalThis.gc?.();
await new Promise((r) => setTimeout(r, 200));
globalThis.gc?.();
const mb = (b) => Math.round((b / 1048576) * 10) / 10;
const { rss, heapUsed } = process.memoryUsage();
console.log(JSON.stringify({ rss_mb: mb(rss), heap_used_mb: mb(heapUsed), city_db: cityDb }));
await app.close();
await deps.store.close();
rmSync(dataDir, { recursive: true, force: true });
