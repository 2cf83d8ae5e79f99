import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { DEFAULT_TOTP_PARAMS, decodeBase32, generateTotp } from '../../src/core/factors/totp.js';
import { cookieNames, type CookieNames } from '../../src/http/cookies.js';

/**
 * twofold as an operator runs it — `node dist/src/cli/main.js serve` in its own process, on a data
 * directory with a twofold.yaml — and a fetch-based client that talks to it like the portal's
 * script does. For tests and benchmarks that must kill the real process (kill -9) or measure it
 * from outside (RSS, latency over real sockets).
 */

export const REPO = resolve(import.meta.dirname, '../..');
export const MAIN = join(REPO, 'dist/src/cli/main.js');
export const LIVE_PASSWORD = 'correct horse battery staple 42';
/** One browser for every request: continuous evaluation compares each request's user agent with the session's. */
export const LIVE_USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

/** Builds dist/ when it is missing (`npm test` and the bench scripts build first). */
export function ensureBuilt(): void {
  if (!existsSync(MAIN)) execFileSync('npm', ['run', 'build'], { cwd: REPO, stdio: 'ignore' });
}

export interface LiveServer {
  readonly baseUrl: string;
  readonly origin: string;
  readonly cookies: CookieNames;
  readonly configFile: string;
  readonly child: ChildProcess;
  readonly pid: number;
  output(): string;
  /** SIGKILL: no shutdown hook, no final checkpoint; resolves once the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/** Writes data_dir/twofold.yaml: the settings given, on a fixed loopback port. Returns its path. */
export function writeLiveConfig(dataDir: string, port: number, settings: Record<string, unknown>): string {
  const file = join(dataDir, 'twofold.yaml');
  writeFileSync(
    file,
    stringify({
      data_dir: dataDir,
      host: '127.0.0.1',
      port,
      public_url: `http://127.0.0.1:${port}`,
      log_level: 'warn',
      ...settings,
    }),
  );
  return file;
}

/** The configuration the server will load from `configFile`, with no TWOFOLD_* of this shell leaking in. */
export const liveConfig = (configFile: string) => loadConfig({ env: {}, file: configFile });

/**
 * Creates users (password LIVE_PASSWORD) in the store directly, as `twofold user add` does, with the
 * compiled dist/ the server runs (so both agree on the schema's migrations); before the server starts.
 */
export async function seedLiveUsers(configFile: string, usernames: string[]): Promise<void> {
  const dist = (file: string) => pathToFileURL(join(REPO, 'dist/src', file)).href;
  const { createDeps } = (await import(dist('app.js'))) as typeof import('../../src/app.js');
  const { addUser } = (await import(dist('auth/users.js'))) as typeof import('../../src/auth/users.js');
  const { loadConfig } = (await import(dist('config.js'))) as typeof import('../../src/config.js');
  const deps = await createDeps(loadConfig({ env: {}, file: configFile }));
  try {
    for (const username of usernames) await addUser(deps, { username, password: LIVE_PASSWORD, isAdmin: false }, null);
  } finally {
    await deps.store.close();
  }
}

/** Starts `twofold serve` with `configFile` and waits until /healthz answers. */
export async function startLiveServer(configFile: string): Promise<LiveServer> {
  const config = liveConfig(configFile);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('TWOFOLD_') && key !== 'PORT') env[key] = value;
  env.TWOFOLD_CONFIG = configFile;
  const child = spawn(process.execPath, [MAIN, 'serve'], { cwd: config.dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const baseUrl = `http://127.0.0.1:${config.port}`;
  const server: LiveServer = {
    baseUrl,
    origin: config.publicOrigin,
    cookies: cookieNames(config),
    configFile,
    child,
    pid: child.pid ?? 0,
    output: () => output,
    async kill9() {
      if (!gone()) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (gone()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (gone()) throw new Error(`twofold exited (${child.exitCode ?? child.signalCode}) before answering:\n${output}`);
    const ok = await fetch(`${baseUrl}/healthz`).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return server;
    if (Date.now() > deadline) {
      await server.kill9();
      throw new Error(`twofold did not answer /healthz within 60 s:\n${output}`);
    }
    await new Promise((done) => setTimeout(done, 100));
  }
}

/** A loopback port free right now, for a live server. */
export function livePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });
}

export interface LiveReply {
  status: number;
  json: any;
}

/**
 * A browser profile against a live server: a cookie jar, Origin on writes (the CSRF proof the
 * portal's script gives), one user agent. `fetch` failures (connection refused or reset: the
 * server died) are thrown, never turned into a status.
 */
export class LiveClient {
  readonly jar = new Map<string, string>();
  constructor(private readonly server: Pick<LiveServer, 'baseUrl' | 'origin' | 'cookies'>) {}

  get sessionToken(): string | undefined {
    return this.jar.get(this.server.cookies.session);
  }

  async request(method: string, path: string, options: { body?: unknown; bearer?: string; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { 'user-agent': LIVE_USER_AGENT, ...options.headers };
    if (options.bearer !== undefined) headers.authorization = `Bearer ${options.bearer}`;
    else if (this.jar.size) headers.cookie = [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ');
    if (method !== 'GET') headers.origin = this.server.origin;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(new URL(path, this.server.baseUrl), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (value === '' || /max-age=0\b|expires=thu, 01 jan 1970/i.test(line)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const text = await res.text();
    let json: any = null;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = text;
      }
    }
    return { status: res.status, json } satisfies LiveReply;
  }
}

/** Throws unless the reply has the expected status. */
export function expectStatus(reply: LiveReply, status: number, what: string): any {
  if (reply.status !== status) throw new Error(`${what}: expected ${status}, got ${reply.status} ${JSON.stringify(reply.json)}`);
  return reply.json;
}

/**
 * An authenticator app that never waits: twofold accepts each 30 s step once per user and ±1 step
 * around now, so at most a few codes are available at any moment; `nextCode()` returns undefined
 * when the steps are spent (the caller then does something else).
 */
export class TotpDevice {
  private lastStep = -Infinity;
  constructor(readonly secret: string) {}

  nextCode(now = Date.now()): string | undefined {
    const current = Math.floor(now / 30_000);
    // The previous and the next step only in the first half of this one: a request delayed by up to
    // 15 s on a busy machine still finds its step inside the ±1 window when the server checks it.
    const early = now % 30_000 < 15_000;
    const step = Math.max(this.lastStep + 1, early ? current - 1 : current);
    if (step > current + (early ? 1 : 0)) return undefined;
    this.lastStep = step;
    return generateTotp(decodeBase32(this.secret), step * 30_000, DEFAULT_TOTP_PARAMS);
  }
}

export interface LiveUser {
  username: string;
  device: TotpDevice;
  recoveryCodes: string[];
}

/** First sign-in of a seeded user: password, then TOTP enrollment; `client` ends with a two-factor session. */
export async function enrollLiveUser(client: LiveClient, username: string): Promise<LiveUser> {
  const login = expectStatus(await client.request('POST', '/api/v1/login', { body: { username, password: LIVE_PASSWORD } }), 200, 'login');
  if (login.state !== 'enrollment_required') throw new Error(`expected enrollment_required, got ${JSON.stringify(login)}`);
  const started = expectStatus(await client.request('POST', '/api/v1/factors/totp'), 200, 'start enrollment');
  const device = new TotpDevice(started.secret);
  const code = device.nextCode();
  if (code === undefined) throw new Error('a new device always has a code');
  const confirmed = expectStatus(await client.request('POST', '/api/v1/factors/totp/confirm', { body: { code } }), 200, 'confirm');
  return { username, device, recoveryCodes: [...confirmed.recovery_codes] };
}

/** VmRSS of a process in MB, from /proc (Linux). */
export function rssMb(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) / 1024;
}
