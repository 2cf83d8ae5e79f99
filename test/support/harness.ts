import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createDeps } from '../../src/app.js';
import type { AuthDeps } from '../../src/auth/deps.js';
import { loadConfig } from '../../src/config.js';
import { ManualClock } from '../../src/core/clock.js';
import type { PasswordHasher } from '../../src/crypto/password-hasher.js';
import { buildServer } from '../../src/http/server.js';
import { createTestDatabase, type TestDatabase } from './postgres.js';

export interface Harness {
  app: FastifyInstance;
  deps: AuthDeps;
  clock: ManualClock;
  dataDir: string;
  /** http://127.0.0.1:PORT once listen() was called. */
  baseUrl: string;
  origin: string;
  close(): Promise<void>;
}

/**
 * A real twofold: real SQLite file in a fresh temp dir, real argon2, real crypto; only the clock is
 * manual so expiry can be tested. `listen: true` binds a loopback port for real HTTP clients.
 */
export async function startHarness(
  /** `postgres: true`: the store is a fresh PostgreSQL database (dropped on close) instead of the SQLite file. */
  /** `hasher`: e.g. cheap argon2 parameters for tests that run thousands of sign-ins (test/security/abuse-*.test.ts). */
  /** `dataDir`: reuse this directory (a restart on the same SQLite file); it is then left in place on close. */
  options: {
    overrides?: Record<string, unknown>;
    listen?: boolean;
    realClock?: boolean;
    postgres?: boolean;
    hasher?: PasswordHasher;
    dataDir?: string;
  } = {},
): Promise<Harness> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'twofold-test-'));
  // TWOFOLD_TEST_STORE=postgres runs a whole test file on PostgreSQL (test/store/postgres-http.test.ts).
  const postgres = options.postgres ?? process.env.TWOFOLD_TEST_STORE === 'postgres';
  const database: TestDatabase | undefined = postgres ? await createTestDatabase() : undefined;
  // A listening harness gets its port first, so public_url (the origin CSRF checks accept) is the real one.
  const port = options.listen ? await freePort() : 8080;
  const config = loadConfig({
    env: {},
    cwd: dataDir,
    overrides: {
      data_dir: dataDir,
      public_url: `http://127.0.0.1:${port}`,
      log_level: 'silent',
      ...(database ? { store: database.url } : {}),
      ...options.overrides,
    },
  });
  const clock = new ManualClock(Date.now());
  const deps = await createDeps(config, { ...(options.realClock ? {} : { clock }), ...(options.hasher ? { hasher: options.hasher } : {}) });
  const app = await buildServer(deps, { logger: false });
  let baseUrl = '';
  if (options.listen) {
    await app.listen({ host: '127.0.0.1', port });
    baseUrl = `http://127.0.0.1:${port}`;
  } else {
    await app.ready();
  }
  return {
    app,
    deps,
    clock,
    dataDir,
    baseUrl,
    origin: config.publicOrigin,
    async close() {
      await app.close();
      await deps.store.close();
      await database?.drop();
      if (options.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
