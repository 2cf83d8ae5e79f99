import Database from 'better-sqlite3';
import { connect } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { FastifyInstance } from 'fastify';
import type { FuzzRequest } from './fuzz-requests.js';

/**
 * Sending fuzzed requests (app.inject, or raw bytes on a socket so nothing cleans them up), judging
 * the answers, and the two things a batch must leave unchanged: what is stored, and memory.
 */

export interface Answer {
  /** 0 when the server closed the connection without an answer. */
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends through app.inject. A URL light-my-request cannot parse ("/\\/" reads as "//", a host-less
 * URL) never reaches the server that way: it goes as bytes to `port`, where the server listens.
 */
export async function injectRequest(app: FastifyInstance, request: FuzzRequest, port?: number): Promise<Answer> {
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers) headers[name] = value;
  let res;
  try {
    res = await app.inject({
      method: request.method as 'GET',
      url: request.url,
      headers,
      ...(request.body ? { payload: request.body } : {}),
      remoteAddress: request.ip,
    });
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_INVALID_URL' || port === undefined) throw err;
    const answer = await sendRawBytes(port, wireBytes(request, `127.0.0.1:${port}`), { timeoutMs: 8_000 });
    if (answer.timedOut) throw new Error('no answer and no close in 8 s', { cause: err });
    return answer;
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) out[name] = Array.isArray(value) ? value.join(', ') : String(value);
  return { status: res.statusCode, headers: out, body: res.body };
}

/** The request as bytes: a well-formed HTTP/1.1 message, the URL's non-ASCII as raw UTF-8. */
export function wireBytes(request: FuzzRequest, hostPort: string): Buffer {
  const lines = [`${request.method} ${Buffer.from(request.url, 'utf8').toString('latin1')} HTTP/1.1`];
  if (!request.headers.some(([name]) => name === 'host')) lines.push(`host: ${hostPort}`);
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  lines.push(`content-length: ${request.body?.length ?? 0}`, 'connection: close');
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), request.body ?? Buffer.alloc(0)]);
}

/**
 * Writes the bytes and reads until the server closes (every message says Connection: close, or is
 * refused, which closes). `halfClose` ends our side after writing, as a client that gives up does.
 */
export function sendRawBytes(
  port: number,
  bytes: Buffer,
  options: { halfClose?: boolean; timeoutMs?: number } = {},
): Promise<Answer & { timedOut: boolean }> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    const chunks: Buffer[] = [];
    let timedOut = false;
    let settled = false;
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    const finish = () => {
      if (settled) return;
      settled = true;
      done({ ...parseResponse(Buffer.concat(chunks)), timedOut });
    };
    socket.once('close', finish);
    socket.on('error', () => undefined);
    socket.setTimeout(options.timeoutMs ?? 10_000, () => {
      timedOut = true;
      socket.destroy();
    });
    socket.write(bytes, () => {
      if (options.halfClose) socket.end();
    });
  });
}

/** The first response in the bytes (status, headers, body; chunked bodies decoded). */
export function parseResponse(bytes: Buffer): Answer {
  const all = bytes.toString('latin1');
  const split = all.indexOf('\r\n\r\n');
  if (split < 0) return { status: 0, headers: {}, body: '' };
  const [statusLine = '', ...headerLines] = all.slice(0, split).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = all.slice(split + 4);
  if (headers['transfer-encoding']?.includes('chunked')) {
    let decoded = '';
    let rest = body;
    for (;;) {
      const eol = rest.indexOf('\r\n');
      const size = parseInt(rest.slice(0, eol), 16);
      if (eol < 0 || !(size > 0)) break;
      decoded += rest.slice(eol + 2, eol + 2 + size);
      rest = rest.slice(eol + 2 + size + 2);
    }
    body = decoded;
  } else if (headers['content-length'] !== undefined) {
    body = body.slice(0, Number(headers['content-length']));
  }
  return { status, headers, body: Buffer.from(body, 'latin1').toString('utf8') };
}

/** The server's own test of "an API request" (src/http/errors.ts): those errors must be JSON. */
const API_PATH = /^\/(api|auth|healthz|readyz|openapi)/;
/** Dot segments: app.inject resolves them before the router sees the URL, so the path seen may differ. */
const DOT_SEGMENT = /(^|[/\\])(\.|%2e){1,2}([/\\?#]|$)/i;

/**
 * What every answer must be: never a server error; an error answer to an API path is JSON
 * {error:{code,message}}; any JSON error answer anywhere has that shape. Returns the problem, or null.
 */
export function judge(request: FuzzRequest, answer: Answer): string | null {
  if (answer.status >= 500) return `server error ${answer.status}: ${answer.body.slice(0, 300)}`;
  if (answer.status < 400 || request.method === 'HEAD' || answer.body === '') {
    if (answer.status >= 400 && request.method !== 'HEAD' && API_PATH.test(request.url) && !DOT_SEGMENT.test(request.url))
      return `empty ${answer.status} answer to an API path`;
    return null;
  }
  const json = (answer.headers['content-type'] ?? '').startsWith('application/json');
  const path = request.url.split('?')[0]!;
  if (!json) {
    if (API_PATH.test(path) && !DOT_SEGMENT.test(path))
      return `${answer.status} for an API path is not JSON (${answer.headers['content-type']}): ${answer.body.slice(0, 200)}`;
    return null;
  }
  try {
    const error = (JSON.parse(answer.body) as { error?: { code?: unknown; message?: unknown } }).error;
    if (typeof error?.code !== 'string' || !error.code || typeof error.message !== 'string' || !error.message)
      return `${answer.status} JSON without {error:{code,message}}: ${answer.body.slice(0, 200)}`;
  } catch {
    return `${answer.status} says JSON but is not: ${answer.body.slice(0, 200)}`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Stored state

/**
 * Every row of every table, minus what a refusal is meant to write: failure events (the audit
 * trail of refused attempts) and the counters of failed attempts that throttling keeps
 * (users.factor_failures, pending_logins.attempts; NIST 800-63B §3.2.2 rate limiting), and SQLite's
 * log of cache invalidations, which names the user whose failure counter moved (migration 009).
 */
export class StoredState {
  private readonly db: Database.Database;
  constructor(path: string) {
    this.db = new Database(path, { readonly: true, fileMustExist: true });
  }
  snapshot(): Record<string, Array<Record<string, unknown>>> {
    const tables = (
      this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{
        name: string;
      }>
    )
      .map((row) => row.name)
      .filter((name) => name !== 'cache_invalidations');
    const state: Record<string, Array<Record<string, unknown>>> = {};
    for (const table of tables) {
      const where = table === 'events' ? " WHERE outcome <> 'failure'" : '';
      const rows = this.db.prepare(`SELECT * FROM "${table}"${where}`).all() as Array<Record<string, unknown>>;
      for (const row of rows) {
        if (table === 'users') delete row.factor_failures;
        if (table === 'pending_logins') delete row.attempts;
      }
      state[table] = rows;
    }
    return state;
  }
  /** Refused attempts on record: they prove the refusals reached the code that records them. */
  failureEvents(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM events WHERE outcome = 'failure'").get() as { n: number }).n;
  }
  close(): void {
    this.db.close();
  }
}

/** The first difference between two snapshots, as "table: row", or null when equal. */
export function firstDifference(before: ReturnType<StoredState['snapshot']>, after: ReturnType<StoredState['snapshot']>): string | null {
  for (const table of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = (before[table] ?? []).map((row) => JSON.stringify(row));
    const b = (after[table] ?? []).map((row) => JSON.stringify(row));
    const gone = a.filter((row) => !b.includes(row));
    const added = b.filter((row) => !a.includes(row));
    if (gone.length || added.length) return `${table}: -${gone[0]?.slice(0, 300) ?? ''} +${added[0]?.slice(0, 300) ?? ''}`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Memory

/** A full collection, when V8 lets us have one (the flag can be set at run time; vitest's workers start without it). */
export function fullGc(): (() => void) | null {
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
}

export function memoryNow(gc: (() => void) | null): { heapUsed: number; rss: number } {
  gc?.();
  gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  return { heapUsed, rss };
}
