import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest, createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocket, WebSocketServer } from 'ws';
import { addUser } from '../../src/auth/users.js';
import { DEFAULT_TOTP_PARAMS, decodeBase32, generateTotp } from '../../src/core/factors/totp.js';
import { cookieNames } from '../../src/http/cookies.js';
import type { Harness } from '../support/harness.js';

/**
 * Shared pieces of the gate tests: a real upstream app that echoes what it received, real proxy
 * processes (nginx, Caddy) started from the documented config templates, and a browser-like client
 * that signs in through twofold's real API and then visits the protected app with its cookies.
 */

export const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const EXAMPLES = join(REPO, 'docs/examples');
export const PASSWORD = 'correct horse battery staple 42';

export const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** An executable on PATH or in one of the usual sbin directories (nginx lives in /usr/sbin on Debian). */
export function findBinary(name: string, versionArgs: string[]): string | null {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/usr/bin', '/sbin'];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (dir && existsSync(candidate) && !spawnSync(candidate, versionArgs, { stdio: 'ignore' }).error) return candidate;
  }
  return null;
}

/** Reads a template from docs/examples and fills its {{PLACEHOLDERS}}; every one must be given. */
export function fillTemplate(file: string, values: Record<string, string>): string {
  const text = readFileSync(join(EXAMPLES, file), 'utf8').replace(/\{\{([A-Z_]+)\}\}/g, (match, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`${file}: no value for ${match}`);
    return value;
  });
  return text;
}

// ---------------------------------------------------------------------------------------------
// The protected app

export interface EchoRecord {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  bodyBytes: number;
  bodySha256: string;
}

export interface EchoUpstream {
  port: number;
  hostPort: string;
  url: string;
  /** Requests the app actually received: proof of what got through the gate. */
  received: EchoRecord[];
  /** WebSocket upgrade requests the app accepted. */
  upgrades: IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** A tiny app that answers every request with the method, URL, headers and body digest it received, and echoes WebSocket messages. */
export async function startEchoUpstream(): Promise<EchoUpstream> {
  const received: EchoRecord[] = [];
  const upgrades: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    const hash = createHash('sha256');
    let bodyBytes = 0;
    req.on('data', (chunk: Buffer) => {
      bodyBytes += chunk.length;
      hash.update(chunk);
    });
    req.on('end', () => {
      const record = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyBytes, bodySha256: hash.digest('hex') };
      received.push(record);
      res.writeHead(200, { 'content-type': 'application/json', 'x-echo': 'upstream' });
      res.end(JSON.stringify(record));
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (socket, req) => {
    upgrades.push(req.headers);
    socket.on('message', (data, binary) => socket.send(binary ? data : `echo:${data.toString()}`));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    hostPort: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    received,
    upgrades,
    async close() {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((done) => wss.close(() => done()));
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Proxy processes

export interface RunningProcess {
  child: ChildProcess;
  /** Everything it printed so far, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Resolves once something accepts connections on the port; fails early if the process died. */
export async function waitForPort(port: number, proc: RunningProcess | null, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc && proc.child.exitCode !== null)
      throw new Error(`process exited with ${proc.child.exitCode} before listening:\n${proc.output()}`);
    const open = await new Promise<boolean>((done) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        done(true);
      });
      socket.once('error', () => done(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms:\n${proc?.output() ?? ''}`);
    await sleep(50);
  }
}

/** Starts a process and waits for its port. stop() ends exactly this process (its pid), never others. */
export async function startProcess(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; port: number },
): Promise<RunningProcess> {
  const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.once('error', (err) => {
    output += `\nspawn error: ${err.message}`;
  });
  const proc: RunningProcess = {
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
  try {
    await waitForPort(options.port, proc);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return proc;
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json(): any;
}

/** One HTTP/1.1 request with exactly the headers given (Host included when set), no redirects followed. */
export function send(
  port: number,
  method: string,
  path: string,
  options: { headers?: Record<string, string | string[]>; body?: Buffer | string } = {},
): Promise<HttpReply> {
  return new Promise((done, fail) => {
    const headers = { host: `127.0.0.1:${port}`, connection: 'close', ...options.headers };
    // A fresh connection per request (agent: false): a pooled socket could carry a request after `Connection: close`.
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, setHost: false, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        done({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
      });
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(options.body);
  });
}

/** Bytes on a socket, for requests a well-behaved client library refuses to send. Returns the status (0 if the server just closed). */
export function sendRaw(port: number, text: string): Promise<{ status: number; head: string; body: string }> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const finish = () => {
      const all = Buffer.concat(chunks).toString('latin1');
      const [head = '', body = ''] = all.split('\r\n\r\n', 2);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1];
      done({ status: status ? Number(status) : 0, head, body });
    };
    socket.once('end', finish);
    socket.once('error', finish);
    socket.setTimeout(10_000, () => socket.destroy());
    socket.once('close', finish);
    socket.write(text, 'latin1');
  });
}

// ---------------------------------------------------------------------------------------------
// WebSocket

export type WsOutcome = { opened: true; reply: string; socket: WebSocket } | { opened: false; status: number; location?: string };

/** Opens a WebSocket through the proxy and sends one message; or reports the HTTP answer that refused the upgrade. */
export function openWebSocket(url: string, headers: Record<string, string>, message = 'hello'): Promise<WsOutcome> {
  return new Promise((done, fail) => {
    const socket = new WebSocket(url, { headers });
    const timer = setTimeout(() => {
      socket.terminate();
      fail(new Error(`no answer from ${url}`));
    }, 5_000);
    socket.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      done({ opened: false, status: res.statusCode ?? 0, location: res.headers.location });
      res.resume();
      socket.terminate();
    });
    socket.on('open', () => socket.send(message));
    socket.on('message', (data) => {
      clearTimeout(timer);
      done({ opened: true, reply: data.toString(), socket });
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      fail(err);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// A person with a browser and an authenticator app

/** An authenticator app: each code is for a step after the last one used (twofold accepts a step only once), within ±1 step of now. */
export class Authenticator {
  private lastStep = -Infinity;
  constructor(readonly secret: string) {}

  async nextCode(): Promise<string> {
    const now = Date.now();
    const current = Math.floor(now / 30_000);
    // Near the end of a step the previous one may fall out of the window before the server checks it.
    const earliest = now % 30_000 > 27_000 ? current : current - 1;
    const step = Math.max(this.lastStep + 1, earliest);
    while (step > Math.floor(Date.now() / 30_000) + 1) await sleep(200);
    this.lastStep = step;
    return generateTotp(decodeBase32(this.secret), step * 30_000, DEFAULT_TOTP_PARAMS);
  }
}

/**
 * A browser profile: a cookie jar for 127.0.0.1 (cookies are host-scoped, not port-scoped, so the
 * portal's cookies go to the proxies on other ports too: single sign-on), talking to twofold's API
 * the way the portal's own script does (Origin on writes).
 */
export class Browser {
  readonly jar = new Map<string, string>();
  constructor(private readonly h: Harness) {}

  get names() {
    return cookieNames(this.h.deps.config);
  }
  get sessionToken(): string | undefined {
    return this.jar.get(this.names.session);
  }
  /** The Cookie header this browser sends to any port of 127.0.0.1. */
  cookieHeader(): string {
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  async api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const headers: Record<string, string> = { 'user-agent': 'vitest gate browser' };
    if (this.jar.size) headers.cookie = this.cookieHeader();
    if (method !== 'GET') headers.origin = this.h.origin;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(new URL(path, this.h.baseUrl), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }

  private expect(res: { status: number; json: any }, status: number, what: string): any {
    if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.json)}`);
    return res.json;
  }

  /** First sign-in of a new user: password, then enroll TOTP; ends with a two-factor session in the jar. */
  async enroll(username: string, password = PASSWORD): Promise<Authenticator> {
    const login = this.expect(await this.api('POST', '/api/v1/login', { username, password }), 200, 'login');
    if (login.state !== 'enrollment_required') throw new Error(`expected enrollment_required, got ${JSON.stringify(login)}`);
    const started = this.expect(await this.api('POST', '/api/v1/factors/totp'), 200, 'start enrollment');
    const authenticator = new Authenticator(started.secret);
    this.expect(
      await this.api('POST', '/api/v1/factors/totp/confirm', { code: await authenticator.nextCode() }),
      200,
      'confirm enrollment',
    );
    return authenticator;
  }

  /** Password + TOTP through the real API. */
  async signIn(username: string, authenticator: Authenticator, password = PASSWORD): Promise<void> {
    const login = this.expect(await this.api('POST', '/api/v1/login', { username, password }), 200, 'login');
    if (login.state !== 'second_factor_required') throw new Error(`expected second_factor_required, got ${JSON.stringify(login)}`);
    const done = this.expect(
      await this.api('POST', '/api/v1/login/second-factor', { method: 'totp', code: await authenticator.nextCode() }),
      200,
      'second factor',
    );
    if (done.state !== 'authenticated') throw new Error(`expected authenticated, got ${JSON.stringify(done)}`);
  }

  async stepUp(authenticator: Authenticator): Promise<void> {
    this.expect(
      await this.api('POST', '/api/v1/session/step-up', { method: 'totp', code: await authenticator.nextCode() }),
      200,
      'step-up',
    );
  }

  async sessionId(): Promise<string> {
    return this.expect(await this.api('GET', '/api/v1/session'), 200, 'session').id;
  }
}

/** A user created the way the CLI does it, then enrolled through the API; `browser` holds a two-factor session. */
export async function enrolledUser(
  h: Harness,
  username: string,
  extra: { isAdmin?: boolean; email?: string; displayName?: string } = {},
): Promise<{ browser: Browser; authenticator: Authenticator }> {
  await addUser(
    h.deps,
    { username, password: PASSWORD, isAdmin: extra.isAdmin ?? false, email: extra.email, displayName: extra.displayName },
    null,
  );
  const browser = new Browser(h);
  const authenticator = await browser.enroll(username);
  return { browser, authenticator };
}

/** The portal address a gate sends a visitor to: `<public_url><page>?return_to=<original URL>`. */
export function portalLocation(h: Harness, page: '/login' | '/step-up', original: string): string {
  const url = new URL(page, h.baseUrl);
  url.searchParams.set('return_to', original);
  return url.toString();
}

/** Header values an echo record shows for the identity headers, in lower case names. */
export const IDENTITY_HEADERS = [
  'remote-user',
  'remote-email',
  'remote-name',
  'remote-groups',
  'remote-session',
  'remote-aal',
  'remote-auth-time',
];
