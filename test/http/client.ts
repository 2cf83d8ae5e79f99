import Database from 'better-sqlite3';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { AuthDeps } from '../../src/auth/deps.js';
import { DEFAULT_TOTP_PARAMS, decodeBase32, generateTotp } from '../../src/core/factors/totp.js';
import { cookieNames, type CookieNames } from '../../src/http/cookies.js';

/**
 * A small API client over `app.inject` that behaves like a browser-side script: it keeps a cookie
 * jar (honouring deletions), and proves same-origin on writes the way the page script does, by
 * echoing the twofold_csrf cookie in X-CSRF-Token. Tests can switch that off per request.
 */

/** How a write proves it is same-origin: header (double submit), origin (Origin header), or none. */
export type CsrfMode = 'header' | 'origin' | 'none';

export interface RequestOptions {
  /** JSON body (objects are serialised); a string or Buffer is sent as is. */
  body?: unknown;
  headers?: Record<string, string>;
  csrf?: CsrfMode;
  /** Send the session token as `Authorization: Bearer` instead of the cookie jar. */
  bearer?: string;
  /** Leave the cookie jar out of this request. */
  noCookies?: boolean;
  /** Extra cookies for this request only (they win over the jar). */
  cookies?: Record<string, string>;
}

export interface ApiReply<T = any> {
  status: number;
  body: T;
  headers: LightMyRequestResponse['headers'];
  /** Set-Cookie headers as parsed by light-my-request. */
  setCookies: LightMyRequestResponse['cookies'];
  raw: LightMyRequestResponse;
}

export interface ClientTarget {
  app: FastifyInstance;
  deps: AuthDeps;
  origin: string;
}

export class ApiClient {
  readonly jar = new Map<string, string>();
  readonly names: CookieNames;

  constructor(
    private readonly target: ClientTarget,
    private readonly identity: { ip?: string; userAgent?: string } = {},
  ) {
    this.names = cookieNames(target.deps.config);
  }

  get sessionToken(): string | undefined {
    return this.jar.get(this.names.session);
  }
  get pendingToken(): string | undefined {
    return this.jar.get(this.names.pending);
  }
  get csrfToken(): string | undefined {
    return this.jar.get(this.names.csrf);
  }

  async request<T = any>(method: string, url: string, options: RequestOptions = {}): Promise<ApiReply<T>> {
    const headers: Record<string, string> = { 'user-agent': this.identity.userAgent ?? 'vitest-api-client/1.0', ...options.headers };
    const cookies = { ...(options.noCookies || options.bearer ? {} : Object.fromEntries(this.jar)), ...options.cookies };
    if (Object.keys(cookies).length > 0) {
      headers.cookie = Object.entries(cookies)
        .map(([name, value]) => `${name}=${value}`)
        .join('; ');
    }
    if (options.bearer !== undefined) headers.authorization = `Bearer ${options.bearer}`;
    const isWrite = !['GET', 'HEAD', 'OPTIONS'].includes(method);
    const csrf = options.csrf ?? 'header';
    if (isWrite && csrf === 'header' && this.csrfToken !== undefined && headers['x-csrf-token'] === undefined)
      headers['x-csrf-token'] = this.csrfToken;
    if (isWrite && csrf === 'origin' && headers.origin === undefined) headers.origin = this.target.origin;

    let payload: string | Buffer | undefined;
    if (options.body !== undefined) {
      if (typeof options.body === 'string' || Buffer.isBuffer(options.body)) payload = options.body;
      else {
        payload = JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
    }
    const res = await this.target.app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(payload === undefined ? {} : { payload }),
      remoteAddress: this.identity.ip ?? '127.0.0.1',
    });
    this.absorb(res);
    let body: unknown = res.body;
    if (String(res.headers['content-type'] ?? '').includes('json') && res.body.length > 0) body = res.json();
    return { status: res.statusCode, body: body as T, headers: res.headers, setCookies: res.cookies, raw: res };
  }

  get<T = any>(url: string, options?: RequestOptions) {
    return this.request<T>('GET', url, options);
  }
  post<T = any>(url: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>('POST', url, { ...options, body });
  }
  delete<T = any>(url: string, options?: RequestOptions) {
    return this.request<T>('DELETE', url, options);
  }

  login(username: string, password: string, options?: RequestOptions) {
    return this.post('/api/v1/login', { username, password }, options);
  }
  secondFactor(method: 'totp' | 'recovery_code', code: string, options?: RequestOptions) {
    return this.post('/api/v1/login/second-factor', { method, code }, options);
  }
  session() {
    return this.get('/api/v1/session');
  }
  logout() {
    return this.post('/api/v1/logout');
  }

  /** Forgets every cookie, like a fresh browser profile. */
  clear(): void {
    this.jar.clear();
  }

  private absorb(res: LightMyRequestResponse): void {
    for (const cookie of res.cookies as Array<{ name: string; value: string; maxAge?: number; expires?: Date }>) {
      const expired =
        (cookie.maxAge !== undefined && cookie.maxAge <= 0) || (cookie.expires !== undefined && cookie.expires.getTime() <= Date.now());
      if (expired || cookie.value === '') this.jar.delete(cookie.name);
      else this.jar.set(cookie.name, cookie.value);
    }
  }
}

/** The code an authenticator shows at `nowMs` for a base32 secret (SHA1, 6 digits, 30 s). */
export const totpAt = (secretBase32: string, nowMs: number): string => generateTotp(decodeBase32(secretBase32), nowMs, DEFAULT_TOTP_PARAMS);

/** A password the policy accepts (long, not on the blocklist, unrelated to the username). */
export const STRONG_PASSWORD = 'correct horse battery staple 42';
export const OTHER_STRONG_PASSWORD = 'violet tugboat sings at midnight';

/** A syntactically valid token (43 base64url characters) that was never issued. */
export const UNKNOWN_TOKEN = 'A'.repeat(43);

/** What a test needs to act as a user who has an authenticator and recovery codes. */
export interface EnrolledUser {
  username: string;
  password: string;
  secret: string;
  recoveryCodes: string[];
}

interface ClockedTarget extends ClientTarget {
  clock: { now(): number; advance(ms: number): void };
}

/**
 * Signs in with the password (enrollment_required), enrolls TOTP with the current code and keeps
 * the resulting two-factor session in the client's jar.
 */
export async function enrollTotp(h: ClockedTarget, client: ApiClient, username: string, password: string): Promise<EnrolledUser> {
  const login = await client.login(username, password);
  if (login.status !== 200 || login.body.state !== 'enrollment_required')
    throw new Error(`expected enrollment_required, got ${login.status} ${JSON.stringify(login.body)}`);
  const started = await client.post('/api/v1/factors/totp');
  if (started.status !== 200) throw new Error(`enrollment start failed: ${started.status} ${JSON.stringify(started.body)}`);
  const secret: string = started.body.secret;
  const confirmed = await client.post('/api/v1/factors/totp/confirm', { code: totpAt(secret, h.clock.now()) });
  if (confirmed.status !== 200) throw new Error(`enrollment confirm failed: ${confirmed.status} ${JSON.stringify(confirmed.body)}`);
  return { username, password, secret, recoveryCodes: confirmed.body.recovery_codes };
}

/**
 * Password then a fresh TOTP code. The clock first moves one step on (30 s), since a code is good
 * once: the step the previous sign-in used is spent.
 */
export async function signInWithTotp(h: ClockedTarget, client: ApiClient, user: EnrolledUser): Promise<ApiReply> {
  h.clock.advance(30_000);
  const login = await client.login(user.username, user.password);
  if (login.status !== 200 || login.body.state !== 'second_factor_required')
    throw new Error(`expected second_factor_required, got ${login.status} ${JSON.stringify(login.body)}`);
  return client.secondFactor('totp', totpAt(user.secret, h.clock.now()));
}

/** A read-only view of the SQLite file behind a harness, to check what is (not) stored. */
export class StoredRows {
  private readonly db: Database.Database;
  constructor(path: string) {
    this.db = new Database(path, { readonly: true, fileMustExist: true });
  }
  tables(): string[] {
    return (
      this.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{
        name: string;
      }>
    ).map((row) => row.name);
  }
  rows(table: string): Array<Record<string, unknown>> {
    return this.db.prepare(`SELECT * FROM "${table}"`).all() as Array<Record<string, unknown>>;
  }
  count(table: string): number {
    return (this.db.prepare(`SELECT count(*) AS n FROM "${table}"`).get() as { n: number }).n;
  }
  /** Every row of every table: equal snapshots mean nothing stored changed. */
  snapshot(): Record<string, Array<Record<string, unknown>>> {
    return Object.fromEntries(this.tables().map((table) => [table, this.rows(table)]));
  }
  close(): void {
    this.db.close();
  }
}

/** Asserts the uniform error shape: a 4xx JSON body {error:{code,message}}. */
export function expectJsonError(res: ApiReply, status: number, code: string): void {
  const where = `${res.raw.raw.req.method} ${res.raw.raw.req.url}: ${res.raw.body.slice(0, 200)}`;
  if (res.status !== status) throw new Error(`expected ${status} ${code}, got ${where}`);
  if (!String(res.headers['content-type']).startsWith('application/json'))
    throw new Error(`expected JSON, got ${res.headers['content-type']} for ${where}`);
  const error = (res.body as { error?: { code?: unknown; message?: unknown } }).error;
  if (!error || error.code !== code || typeof error.message !== 'string' || error.message.length === 0) {
    throw new Error(`expected {error:{code:"${code}",message}}, got ${where}`);
  }
}
