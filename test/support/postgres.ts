import { randomBytes } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, it } from 'vitest';

/** The server the PostgreSQL tests create their databases on (trust auth on this machine). */
export const POSTGRES_ADMIN_URL = process.env.TWOFOLD_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_BINARY = 'redis-server';

const urlFor = (database: string): string => {
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
};

export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export async function postgresAvailable(): Promise<boolean> {
  try {
    await adminQuery('select 1');
    return true;
  } catch {
    return false;
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  /** Terminates its connections and drops it. */
  drop(): Promise<void>;
}

/** A fresh, empty database for one test run: twofold_test_<random>. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `twofold_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  return {
    name,
    url: urlFor(name),
    async drop() {
      await adminQuery(`alter database ${name} allow_connections true`).catch(() => undefined);
      await adminQuery('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);
      await adminQuery(`drop database if exists ${name}`);
    },
  };
}

/** Makes PostgreSQL refuse the database (as if the server were gone for it), then lets it back in. */
export async function blockDatabase(name: string): Promise<void> {
  await adminQuery(`alter database ${name} allow_connections false`);
  await adminQuery('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
}

export async function unblockDatabase(name: string): Promise<void> {
  await adminQuery(`alter database ${name} allow_connections true`);
}

const POSTGRES_HINT =
  'PostgreSQL is not reachable at TWOFOLD_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/postgres): start it (apt-get install postgresql; .ci/run starts it)';
const REDIS_HINT = 'redis-server is not installed: apt-get install redis-server';

export const hasRedisServer = (): boolean => spawnSync(REDIS_BINARY, ['--version'], { encoding: 'utf8' }).status === 0;

/**
 * Runs `define` when PostgreSQL (and, if asked, redis-server) are there. Otherwise it fails in CI
 * and skips with a hint elsewhere (the pattern of test/gate/nginx.test.ts).
 */
export function describeWithServices(title: string, needs: { redis?: boolean }, define: () => void | Promise<void>): void {
  const ready = POSTGRES_READY && (!needs.redis || hasRedisServer());
  const hint = !POSTGRES_READY ? POSTGRES_HINT : REDIS_HINT;
  if (ready) describe(title, define);
  else if (process.env.CI) {
    describe(title, () => {
      it('has its services available in CI', () => {
        throw new Error(hint);
      });
    });
  } else {
    console.warn(`${title} skipped: ${hint}`);
    describe(title, () => it.skip(`skipped: ${hint}`, () => undefined));
  }
}

/** Checked once per test file, at collection time. */
export const POSTGRES_READY = await postgresAvailable();

/** A private redis-server on a spare port, which a test may kill and restart. */
export class RedisServer {
  private process: ChildProcess | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'twofold-redis-'));
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.process = spawn(
      REDIS_BINARY,
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir],
      {
        stdio: 'ignore',
      },
    );
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      if (spawnSync('redis-cli', ['-p', String(this.port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG') return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  async stop(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
