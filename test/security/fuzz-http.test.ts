import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { cookieNames } from '../../src/http/cookies.js';
import { targetUrl } from '../../src/http/forwarded-request.js';
import { buildReverseProxy } from '../../src/http/proxy/reverse-proxy.js';
import { startEchoUpstream, type EchoUpstream } from '../gate/support.js';
import { ApiClient, enrollTotp, signInWithTotp, STRONG_PASSWORD, type EnrolledUser } from '../http/client.js';
import { freePort, startHarness, type Harness } from '../support/harness.js';
import { describeRequest, plainRequest, requestFor, type FuzzRequest, type FuzzWorld } from './fuzz-requests.js';
import { documentedOperations, fuzzTargets, RouteRecorder, type FuzzRoute, type Schema } from './fuzz-routes.js';
import {
  firstDifference,
  fullGc,
  injectRequest,
  judge,
  memoryNow,
  sendRawBytes,
  StoredState,
  wireBytes,
  type Answer,
} from './fuzz-wire.js';

/**
 * HTTP fuzzing of every route the server registers (docs/security/fuzzing.md): seeded, bounded in
 * time, thousands of hostile requests through app.inject and a share as raw bytes on a socket.
 * No answer is a 5xx, errors to API paths are JSON {error:{code,message}}, the process survives,
 * a rejected request changes nothing stored, and memory stays flat.
 *
 * TWOFOLD_FUZZ_SEED replays a run; TWOFOLD_FUZZ_RUNS (cases through app.inject; the other phases
 * scale with it) and TWOFOLD_FUZZ_SECONDS (time budget of that phase) make it longer.
 */

const SEED = Number(process.env.TWOFOLD_FUZZ_SEED ?? 20_261_127);
const RUNS = Number(process.env.TWOFOLD_FUZZ_RUNS ?? 5_000);
const SECONDS = Number(process.env.TWOFOLD_FUZZ_SECONDS ?? 20);
/** Below this share of the planned cases a phase ran too few to mean anything (a very slow machine). */
const MIN_SHARE = 0.4;
const BUDGET = {
  inject: { runs: RUNS, ms: SECONDS * 1000 },
  socket: { runs: Math.ceil(RUNS / 6), ms: SECONDS * 300 },
  state: { runs: Math.ceil(RUNS / 8), ms: SECONDS * 400 },
  memory: { runs: Math.ceil(RUNS / 2), ms: SECONDS * 500 },
  proxy: { runs: Math.ceil(RUNS / 8), ms: SECONDS * 300 },
};
const testTimeout = (ms: number) => ms + 60_000;

/** A stable seed per route, so adding a route does not change the cases of the others. */
function seedFor(label: string): number {
  let hash = 0x811c9dc5;
  for (const char of label) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193);
  return (SEED ^ hash) | 0;
}

/** Runs a property with a time limit; on failure, a message with the seed that replays it. */
async function fuzz<T>(
  label: string,
  arbitrary: fc.Arbitrary<T>,
  runs: number,
  ms: number,
  check: (value: T) => Promise<void>,
  examples: T[] = [],
) {
  const seed = seedFor(label);
  const result = await fc.check(fc.asyncProperty(arbitrary, check), {
    seed,
    numRuns: runs,
    examples: examples.map((example) => [example] as [T]),
    plugins: [fc.interruptAfterTimeLimit(ms)],
  });
  if (result.failed) {
    const example = (result.counterexample as unknown[] | null)?.[0];
    throw new Error(
      `${label}: ${(result.errorInstance as Error | undefined)?.message ?? 'failed'}\n` +
        `  request: ${describeExample(example)}\n` +
        `  replay: TWOFOLD_FUZZ_SEED=${SEED} (fast-check seed ${result.seed}, path "${result.counterexamplePath}")`,
    );
  }
}

/** A generated request (or raw message) as one readable line. */
function describeExample(example: unknown): string {
  if (example && typeof example === 'object' && 'method' in example) return describeRequest(example as FuzzRequest);
  if (example && typeof example === 'object' && 'request' in example && (example as { request?: unknown }).request)
    return `${'socket' in example && example.socket ? 'on a socket: ' : ''}${describeRequest((example as { request: FuzzRequest }).request)}`;
  if (example && typeof example === 'object' && 'bytes' in example) {
    const { kind, bytes } = example as { kind: string; bytes: Buffer };
    return `${kind}: ${JSON.stringify(bytes.toString('latin1').slice(0, 300))} (${bytes.length} bytes)`;
  }
  return String(example);
}

/** Lets fast-check print a request readably (a body may be 40 KB). */
const readable = (arbitrary: fc.Arbitrary<FuzzRequest>) =>
  arbitrary.map((request) => Object.assign(request, { [fc.toStringMethod]: () => describeRequest(request) }));

/** A request for any route (each route's generator is built once: building is the slow part). */
const anyRoute = (of: FuzzWorld) => readable(fc.oneof(...targets.map((route) => requestFor(route, of))));

const expectJudged = (request: FuzzRequest, answer: Answer) => {
  const problem = judge(request, answer);
  if (problem) throw new Error(problem);
};

let h: Harness;
let port: number;
let recorder: RouteRecorder;
let openapi: Schema;
let targets: FuzzRoute[];
let world: FuzzWorld;
/** The built-in reverse proxy (a Fastify instance of its own) and the app behind it. */
let proxy: FastifyInstance;
let proxyPort: number;
let proxyRecorder: RouteRecorder;
let upstream: EchoUpstream;

beforeAll(async () => {
  upstream = await startEchoUpstream();
  proxyPort = await freePort();
  recorder = new RouteRecorder();
  recorder.start();
  try {
    h = await startHarness({
      listen: true,
      overrides: {
        // A proxy on loopback, so X-Forwarded-For is parsed for real on socket requests.
        trusted_proxies: ['127.0.0.1/32'],
        proxy: { upstream: upstream.url, port: proxyPort, host: '127.0.0.1' },
        access_control: {
          default_policy: 'two_factor',
          rules: [
            { path: '/admin', policy: 'deny' },
            { path: '/public', policy: 'bypass' },
          ],
        },
      },
    });
  } finally {
    recorder.stop();
  }
  proxyRecorder = new RouteRecorder();
  proxyRecorder.start();
  try {
    proxy = await buildReverseProxy(h.deps, { logger: false });
  } finally {
    proxyRecorder.stop();
  }
  await proxy.listen({ host: '127.0.0.1', port: proxyPort });
  port = Number(new URL(h.baseUrl).port);
  openapi = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json() as Schema;
  targets = fuzzTargets(recorder.routes, openapi);
  world = { origin: h.origin, cookieNames: cookieNames(h.deps.config) };
  // A user the generated sign-ins can name (valid-shaped bodies reach the password check).
  await addUser(h.deps, { username: 'carol', password: STRONG_PASSWORD, isAdmin: false }, null);
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await h?.close();
  await upstream?.close();
});

describe('the fuzzed routes are every route', () => {
  it('comes from the running server: every registered route, every documented operation among them', () => {
    const registered = [...recorder.routes];
    expect(registered.length).toBeGreaterThan(60);
    for (const operation of documentedOperations(openapi)) expect(recorder.routes, operation).toContain(operation);
    expect(targets.map((t) => `${t.method} ${t.url}`).sort()).toEqual(registered.sort());
    // Pages, forward-auth, the JWKS, metrics and the admin pages are fuzzed as well as the API.
    for (const route of [
      'GET /login',
      'GET /auth/request',
      'POST /auth/forward',
      'GET /.well-known/jwks.json',
      'GET /metrics',
      'GET /admin/users',
    ])
      expect(registered).toContain(route);
    expect(targets.filter((t) => t.body).length).toBeGreaterThanOrEqual(8);
  });
});

describe('HTTP fuzzing: no 5xx, JSON errors, no crash', () => {
  it(
    'every route, through app.inject',
    async () => {
      let cases = 0;
      const statuses = new Map<number, number>();
      const perRoute = Math.ceil(BUDGET.inject.runs / targets.length);
      const started = Date.now();
      for (const [i, route] of targets.entries()) {
        // The time left is shared by the routes still to go.
        const left = Math.max(BUDGET.inject.ms - (Date.now() - started), 200) / (targets.length - i);
        const label = `${route.method} ${route.url}`;
        await fuzz(
          label,
          readable(requestFor(route, world)),
          perRoute,
          left,
          async (request) => {
            cases += 1;
            const answer = await injectRequest(h.app, request, port);
            statuses.set(Math.floor(answer.status / 100), (statuses.get(Math.floor(answer.status / 100)) ?? 0) + 1);
            expectJudged(request, answer);
          },
          [plainRequest(route)],
        );
      }
      const classes = [...statuses]
        .sort()
        .map(([c, n]) => `${c}xx ${n}`)
        .join(', ');
      console.log(`fuzz (inject): ${cases} cases over ${targets.length} routes in ${Date.now() - started} ms, seed ${SEED}; ${classes}`);
      expect(cases).toBeGreaterThanOrEqual(Math.floor(BUDGET.inject.runs * MIN_SHARE));
      // Every route was reached by some of its cases (not all: many paths are refused by the router).
      const missed = targets.filter((t) => !recorder.hits.get(`${t.method} ${t.url}`)).map((t) => `${t.method} ${t.url}`);
      expect(missed).toEqual([]);
      expect((await h.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    },
    testTimeout(BUDGET.inject.ms),
  );

  it(
    'every route, as raw bytes on a socket, well-formed and malformed',
    async () => {
      const hostPort = `127.0.0.1:${port}`;
      const wellFormed = anyRoute(world).map((request) => ({
        kind: 'well-formed' as const,
        request,
        bytes: wireBytes(request, hostPort),
        halfClose: false,
      }));
      const arbitrary = fc.oneof({ arbitrary: wellFormed, weight: 3 }, { arbitrary: malformedRequest(hostPort), weight: 2 });
      let cases = 0;
      const started = Date.now();
      await fuzz('socket', arbitrary, BUDGET.socket.runs, BUDGET.socket.ms, async (sample) => {
        cases += 1;
        const answer = await sendRawBytes(port, sample.bytes, { halfClose: sample.halfClose, timeoutMs: 8_000 });
        if (answer.timedOut) throw new Error(`no answer and no close in 8 s for ${sample.kind}`);
        // A message that is cut short may be dropped without an answer; any other gets one.
        if (answer.status === 0 && !sample.halfClose) throw new Error(`connection closed without an answer (${sample.kind})`);
        if (answer.status === 0) return;
        const request: FuzzRequest = sample.request ?? { method: 'GET', url: '/api/raw', headers: [], ip: '', bodyKind: sample.kind };
        expectJudged(request, answer);
        if (sample.kind !== 'well-formed' && answer.status >= 400 && !answer.headers['content-type']?.startsWith('application/json'))
          throw new Error(`${sample.kind} refused with ${answer.status} without a JSON error: ${answer.body.slice(0, 200)}`);
      });
      console.log(`fuzz (socket): ${cases} cases in ${Date.now() - started} ms`);
      expect(cases).toBeGreaterThanOrEqual(Math.floor(BUDGET.socket.runs * MIN_SHARE));
      const health = await sendRawBytes(port, Buffer.from(`GET /healthz HTTP/1.1\r\nhost: ${hostPort}\r\nconnection: close\r\n\r\n`));
      expect(health.status).toBe(200);
    },
    testTimeout(BUDGET.socket.ms),
  );
});

describe('the built-in reverse proxy, fuzzed', () => {
  it(
    'without a session nothing but a bypass path reaches the app, never with twofold cookies or identity headers, and no 5xx',
    async () => {
      const routes = fuzzTargets(proxyRecorder.routes, { paths: {} });
      expect(routes.length).toBeGreaterThan(0);
      const publicUrl = h.deps.config.proxy!.publicUrl;
      const hostPort = `127.0.0.1:${proxyPort}`;
      // Half the paths start with the bypass rule's "/public", so that dot segments and encodings try to climb out of it.
      const arbitrary = fc
        .tuple(readable(fc.oneof(...routes.map((route) => requestFor(route, world)))), fc.boolean(), fc.nat(4))
        .map(([request, underPublic, way]) => ({
          request: underPublic ? { ...request, url: `/public${request.url}` } : request,
          socket: way === 0,
        }));
      const ownCookies = new RegExp(`(^|;\\s*)(${Object.values(world.cookieNames).join('|')})=`);
      let cases = 0;
      let reached = 0;
      const started = Date.now();
      await fuzz('built-in proxy', arbitrary, BUDGET.proxy.runs, BUDGET.proxy.ms, async ({ request, socket }) => {
        cases += 1;
        const seen = upstream.received.length;
        const answer = socket
          ? await sendRawBytes(proxyPort, wireBytes(request, hostPort), { timeoutMs: 8_000 })
          : await injectRequest(proxy, request, proxyPort);
        if (answer.status === 0) throw new Error('the proxy closed the connection without an answer');
        if ('timedOut' in answer && answer.timedOut)
          throw new Error('the proxy answered but kept the connection open past Connection: close');
        expectJudged(request, answer);
        for (const record of upstream.received.slice(seen)) {
          reached += 1;
          const judged = targetUrl(publicUrl, record.url);
          if (!judged || !(judged.pathname === '/public' || judged.pathname.startsWith('/public/')))
            throw new Error(
              `${record.method} ${record.url} reached the app without a session (judged as ${judged?.pathname ?? 'unreadable'})`,
            );
          if (typeof record.headers.cookie === 'string' && ownCookies.test(record.headers.cookie))
            throw new Error(`the app received twofold's cookies: ${record.headers.cookie.slice(0, 200)}`);
          const forged = Object.keys(record.headers).filter((name) => /^remote[-_]/i.test(name));
          if (forged.length) throw new Error(`the app received identity headers without a session: ${forged.join(', ')}`);
        }
      });
      console.log(`fuzz (proxy): ${cases} cases, ${reached} reached the app (all under /public), in ${Date.now() - started} ms`);
      expect(cases).toBeGreaterThanOrEqual(Math.floor(BUDGET.proxy.runs * MIN_SHARE));
      expect(reached).toBeGreaterThan(0);
      const missed = routes.filter((t) => !proxyRecorder.hits.get(`${t.method} ${t.url}`)).map((t) => `${t.method} ${t.url}`);
      expect(missed).toEqual([]);
    },
    testTimeout(BUDGET.proxy.ms),
  );
});

/** Messages Node's HTTP parser must refuse (or wait on), built around generated parts. */
function malformedRequest(hostPort: string) {
  const head = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;
  const token = fc.string({ unit: 'binary-ascii', maxLength: 30 });
  const forms: Array<fc.Arbitrary<{ kind: string; text: string; halfClose?: boolean }>> = [
    fc.integer({ min: 17_000, max: 60_000 }).map((n) => ({
      kind: 'oversized header',
      text: head(['GET /api/v1/session HTTP/1.1', `host: ${hostPort}`, `x-big: ${'b'.repeat(n)}`]),
    })),
    fc
      .integer({ min: 17_000, max: 30_000 })
      .map((n) => ({ kind: 'oversized request line', text: head([`GET /${'u'.repeat(n)} HTTP/1.1`]) })),
    token.map((t) => ({ kind: 'garbage request line', text: head([`${t} ${t}`, `host: ${hostPort}`]) })),
    fc
      .constantFrom(
        'G@T / HTTP/1.1',
        'GET / HTTP/9.9',
        'GET / HTTP/1.1x',
        'GET  HTTP/1.1',
        'GET /\u00e9 HTTP/1.1',
        'get / http/1.1',
        'GET / FOO/1.1',
      )
      .map((line) => ({ kind: 'bad request line', text: head([line, `host: ${hostPort}`]) })),
    fc
      .constantFrom(
        'no-colon-here',
        'bad name: x',
        'x-nul: a\u0000b',
        'x-ctl: a\u0001b',
        ' leading: space',
        'x-fold: a\r\n  folded',
        ': empty-name',
        'x-del: a\u007fb',
      )
      .map((line) => ({ kind: 'bad header line', text: head(['GET /api/v1/session HTTP/1.1', `host: ${hostPort}`, line]) })),
    fc
      .constantFrom(
        ['content-length: 5', 'content-length: 6'],
        ['content-length: 5', 'transfer-encoding: chunked'],
        ['content-length: -1'],
        ['content-length: 1e3'],
        ['content-length: 99999999999999999999'],
        ['transfer-encoding: chunked, identity'],
        ['transfer-encoding: gzip'],
      )
      .map((lines) => ({ kind: 'bad framing', text: head(['POST /api/v1/login HTTP/1.1', `host: ${hostPort}`, ...lines]) + 'hello' })),
    fc.constantFrom('zz', '-1', 'ffffffffffffffffff', '5;\u0001ext').map((size) => ({
      kind: 'bad chunk size',
      text:
        head(['POST /api/v1/login HTTP/1.1', `host: ${hostPort}`, 'content-type: application/json', 'transfer-encoding: chunked']) +
        `${size}\r\n{"a":1}\r\n0\r\n\r\n`,
    })),
    // Blank lines before a request line are skipped (RFC 9112 §2.2): the server waits for more.
    fc.constantFrom('\r\n', '\n\n', '\r\r\n').map((text) => ({ kind: 'blank lines only', text, halfClose: true })),
    fc
      .constantFrom('GET / HTTP/1.1\nhost: x\n\n', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', '\u0016\u0003\u0001\u0002\u0000\u0001')
      .map((text) => ({
        kind: 'not HTTP/1.1',
        text,
      })),
    fc.integer({ min: 10, max: 500 }).map((n) => ({
      kind: 'body cut short',
      text:
        head(['POST /api/v1/login HTTP/1.1', `host: ${hostPort}`, 'content-type: application/json', `content-length: ${n + 10}`]) +
        'x'.repeat(n),
      halfClose: true,
    })),
    fc.constantFrom('GET', 'POST').map((method) => ({
      kind: 'head cut short',
      text: `${method} /api/v1/session HTTP/1.1\r\nhost: ${hostPort}\r\nx-partial: yes`,
      halfClose: true,
    })),
  ];
  return fc.oneof(...forms).map((sample) => ({
    kind: sample.kind,
    request: undefined,
    bytes: Buffer.from(sample.text, 'latin1'),
    halfClose: sample.halfClose ?? false,
  }));
}

describe('rejected input changes nothing stored', () => {
  let client: ApiClient;
  let user: EnrolledUser;

  beforeAll(async () => {
    await addUser(h.deps, { username: 'fuzz-admin', password: STRONG_PASSWORD, isAdmin: true }, null);
    client = new ApiClient(h, { ip: '203.0.113.9', userAgent: 'fuzz-live-browser/1.0' });
    user = await enrollTotp(h, client, 'fuzz-admin', STRONG_PASSWORD);
  }, 60_000);

  it(
    'with a signed-in administrator present, a refused request leaves users, sessions, factors, tokens and events as they were',
    async () => {
      const state = new StoredState(h.deps.config.sqlitePath);
      const sessions = (await client.get('/api/v1/sessions')).body as { sessions?: Array<{ id: string }> };
      const carol = await h.deps.store.users.findByUsername('carol');
      const admin = await h.deps.store.users.findByUsername('fuzz-admin');
      const ids = [...(sessions.sessions ?? []).map((s) => s.id), carol?.id, admin?.id].filter((id): id is string => !!id);
      // Placeholders, replaced at send time: a request that was accepted may have ended the session.
      const live: FuzzWorld = {
        ...world,
        live: { sessionToken: '\u0001session\u0001', pendingToken: '\u0001pending\u0001', csrfToken: '\u0001csrf\u0001', ids },
      };
      // A sign-in waiting for its second factor, so that second-factor bodies meet a real pending login.
      const pending = new ApiClient(h, { ip: '203.0.113.9', userAgent: 'fuzz-live-browser/1.0' });
      expect((await pending.login('fuzz-admin', STRONG_PASSWORD)).body.state).toBe('second_factor_required');
      const substitute = (value: string) =>
        value
          .replaceAll('\u0001session\u0001', client.sessionToken ?? '')
          .replaceAll('\u0001pending\u0001', pending.pendingToken ?? '')
          .replaceAll('\u0001csrf\u0001', client.csrfToken ?? '');
      let cases = 0;
      let refused = 0;
      let signIns = 0;
      const failuresBefore = state.failureEvents();
      let failuresWritten = 0;
      const started = Date.now();
      try {
        await fuzz(
          'stored state',
          anyRoute(live),
          BUDGET.state.runs,
          BUDGET.state.ms,
          async (generated) => {
            cases += 1;
            // The live user's own address and browser: a context change is a different story (session continuity).
            const request: FuzzRequest = {
              ...generated,
              ip: '203.0.113.9',
              url: substitute(generated.url),
              headers: [
                ...generated.headers
                  .filter(([name]) => name !== 'user-agent' && name !== 'x-forwarded-for')
                  .map(([name, value]): [string, string] => [name, substitute(value)]),
                ['user-agent', 'fuzz-live-browser/1.0'],
              ],
            };
            const before = state.snapshot();
            const answer = await injectRequest(h.app, request, port);
            expectJudged(request, answer);
            if (answer.status >= 400) {
              refused += 1;
              const changed = firstDifference(before, state.snapshot());
              if (changed)
                throw new Error(`refused with ${answer.status} (${answer.body.slice(0, 160)}) but stored state changed: ${changed}`);
              return;
            }
            // Accepted (it may have signed the administrator out): keep a live session for what follows.
            if ((await client.session()).status !== 200) {
              signIns += 1;
              const again = await signInWithTotp(h, client, user);
              if (again.status !== 200) throw new Error(`could not sign in again: ${again.status} ${JSON.stringify(again.body)}`);
            }
          },
          credentialRefusals(live),
        );
        failuresWritten = state.failureEvents() - failuresBefore;
      } finally {
        state.close();
      }
      console.log(
        `fuzz (state): ${cases} cases, ${refused} refused (${failuresWritten} failure events recorded), ${signIns} new sign-ins, in ${Date.now() - started} ms`,
      );
      expect(cases).toBeGreaterThanOrEqual(Math.floor(BUDGET.state.runs * MIN_SHARE));
      expect(refused).toBeGreaterThan(cases / 2);
      // The credential refusals at least got as far as recording themselves (the snapshot reads the live database).
      expect(failuresWritten).toBeGreaterThanOrEqual(credentialRefusals(live).length);
    },
    testTimeout(BUDGET.state.ms),
  );
});

/**
 * Refusals that reach a credential check, first in the stored-state phase: a wrong code for a pending
 * sign-in and for a step-up, a wrong current password. They write failure events and count failed
 * attempts, and nothing else.
 */
function credentialRefusals(live: FuzzWorld): FuzzRequest[] {
  const { session, pending, csrf } = live.cookieNames;
  const tokens = live.live!;
  const post = (url: string, cookies: string, body: unknown): FuzzRequest => ({
    method: 'POST',
    url,
    headers: [
      ['cookie', `${cookies}; ${csrf}=${tokens.csrfToken}`],
      ['x-csrf-token', tokens.csrfToken],
      ['content-type', 'application/json'],
    ],
    body: Buffer.from(JSON.stringify(body)),
    ip: '203.0.113.9',
    bodyKind: 'wrong credential',
  });
  return [
    post('/api/v1/login/second-factor', `${pending}=${tokens.pendingToken}`, { method: 'totp', code: '000000' }),
    post('/api/v1/session/step-up', `${session}=${tokens.sessionToken}`, { method: 'totp', code: '000000' }),
    post('/api/v1/account/password', `${session}=${tokens.sessionToken}`, {
      current_password: 'not the password at all',
      new_password: 'violet tugboat sings at midnight',
    }),
  ];
}

describe('memory stays bounded', () => {
  it(
    'heap and RSS after many more fuzzed requests stay near where they were after warm-up',
    async () => {
      const gc = fullGc();
      const mixed = anyRoute(world);
      const batch = 250;
      let sent = 0;
      const send = async (round: number) => {
        for (const request of fc.sample(mixed, { seed: seedFor(`memory ${round}`), numRuns: batch })) {
          expectJudged(request, await injectRequest(h.app, request, port));
          sent += 1;
        }
      };
      for (let round = 0; round < 3; round++) await send(round);
      const warm = memoryNow(gc);
      const samples = [warm.heapUsed];
      const started = Date.now();
      let round = 3;
      while (sent - 3 * batch < BUDGET.memory.runs && Date.now() - started < BUDGET.memory.ms) {
        await send(round++);
        samples.push(memoryNow(gc).heapUsed);
      }
      const after = memoryNow(gc);
      const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
      console.log(
        `fuzz (memory): ${sent - 3 * batch} requests after warm-up; heap MB ${samples.map(mb).join(' → ')}; rss ${mb(warm.rss)} → ${mb(after.rss)} MB; gc ${gc ? 'forced' : 'unavailable'}`,
      );
      expect(sent - 3 * batch).toBeGreaterThanOrEqual(Math.floor(BUDGET.memory.runs * MIN_SHARE));
      // Generous bounds (a leak of a few KB per request over thousands shows; the GC's mood does not).
      const heapBound = gc ? 32 : 96;
      expect(mb(after.heapUsed - warm.heapUsed), 'heap growth (MB)').toBeLessThan(heapBound);
      expect(mb(after.rss - warm.rss), 'RSS growth (MB)').toBeLessThan(192);
    },
    testTimeout(BUDGET.memory.ms),
  );
});
