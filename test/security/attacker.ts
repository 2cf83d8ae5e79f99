import { createArgon2Hasher, type PasswordHasher } from '../../src/crypto/password-hasher.js';
import type { Harness } from '../support/harness.js';

/**
 * Support for the abuse tests (test/security/abuse-*.test.ts): a real HTTP client whose address is
 * set by X-Forwarded-For through the trusted proxy 127.0.0.1, a bounded-concurrency runner, and a
 * password hasher that counts the argon2 verifications the server actually performs.
 */

/** Harness overrides: believe X-Forwarded-For from the loopback "proxy", so each client picks its address. */
export const BEHIND_PROXY = { trusted_proxies: ['127.0.0.1/32'] };

export interface Reply {
  status: number;
  body: any;
  headers: Headers;
  text: string;
}

/** A browser (or a bot) as the server sees it through the proxy: an address and a cookie jar. */
export class HttpClient {
  readonly jar = new Map<string, string>();
  constructor(
    private readonly h: Harness,
    public ip: string,
    private readonly userAgent = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
  ) {}

  async post(path: string, body: unknown, options: { cookies?: Record<string, string> } = {}): Promise<Reply> {
    const jar = { ...Object.fromEntries(this.jar), ...options.cookies };
    const headers: Record<string, string> = {
      'user-agent': this.userAgent,
      'x-forwarded-for': this.ip,
      'content-type': 'application/json',
      origin: this.h.origin,
    };
    if (Object.keys(jar).length)
      headers.cookie = Object.entries(jar)
        .map(([k, v]) => `${k}=${v}`)
        .join('; ');
    const res = await fetch(this.h.baseUrl + path, { method: 'POST', headers, body: JSON.stringify(body), redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const value = pair.slice(eq + 1);
      if (!value || /max-age=0/i.test(line) || /expires=Thu, 01 Jan 1970/i.test(line)) this.jar.delete(pair.slice(0, eq));
      else this.jar.set(pair.slice(0, eq), value);
    }
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers, text };
  }

  login(username: string, password: string): Promise<Reply> {
    return this.post('/api/v1/login', { username, password });
  }
  secondFactor(code: string): Promise<Reply> {
    return this.post('/api/v1/login/second-factor', { method: 'totp', code });
  }
}

/** Runs the tasks with at most `concurrency` in flight, like a bot farm with that many connections. */
export async function pool<T>(tasks: Array<() => Promise<T>>, concurrency: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, tasks.length) }, worker));
  return results;
}

/** A hasher that counts verifications: per stored hash (so per account) and against the dummy hash (unknown users). */
export interface CountingHasher extends PasswordHasher {
  verificationsOf(storedHash: string): number;
  readonly dummyVerifications: number;
  readonly totalVerifications: number;
}

/**
 * Cheap argon2id (1 MiB, one pass) so thousands of sign-ins run in seconds; the throttles under test
 * do not depend on the cost. The timing test (abuse-enumeration-timing) keeps the real parameters.
 */
export function countingHasher(): CountingHasher {
  const inner = createArgon2Hasher({ memoryCost: 1024, timeCost: 1, parallelism: 1 });
  const perHash = new Map<string, number>();
  let dummy = 0;
  return {
    hash: (password) => inner.hash(password),
    verify(storedHash, password) {
      perHash.set(storedHash, (perHash.get(storedHash) ?? 0) + 1);
      return inner.verify(storedHash, password);
    },
    verifyDummy(password) {
      dummy++;
      return inner.verifyDummy(password);
    },
    verificationsOf: (storedHash) => perHash.get(storedHash) ?? 0,
    get dummyVerifications() {
      return dummy;
    },
    get totalVerifications() {
      return dummy + [...perHash.values()].reduce((a, b) => a + b, 0);
    },
  };
}

/** A deterministic PRNG (mulberry32), so an attack's order is the same on every run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The n-th address of a /16 made for tests (TEST-NET-like, not routed): 10.<block>.x.y. */
export const addressOf = (block: number, n: number): string => `10.${block}.${Math.floor(n / 250)}.${(n % 250) + 1}`;
