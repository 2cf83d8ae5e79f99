import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSession } from '../../src/auth/sessions.js';
import { addUser } from '../../src/auth/users.js';
import { cookieNames } from '../../src/http/cookies.js';
import { identityHeaders } from '../../src/http/gate-answer.js';
import { startHarness, type Harness } from '../support/harness.js';
import { sendRaw } from './support.js';

/**
 * Over a socket, plain forward-auth checks are answered by src/http/gate-fast-path.ts ahead of
 * Fastify; app.inject() goes through the Fastify route. Both must give the same answer, headers
 * included, for every kind of outcome: this sends each request both ways and compares.
 */

const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
/** Hop-by-hop and per-answer headers: they differ between a socket and inject() by nature. */
const PER_ANSWER = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', 'x-request-id']);

let h: Harness;
let port: number;
let fresh: string;
let stale: string;
/** identityHeaders() of the fresh session: what the answers must carry, names in lower case. */
let expectedIdentity: Record<string, string>;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function parseHead(head: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n').slice(1)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

async function overSocket(method: string, path: string, headers: Record<string, string>): Promise<Answer> {
  const lines = [`${method} ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  const answer = await sendRaw(port, `${[...lines, 'Connection: close'].join('\r\n')}\r\n\r\n`);
  return { status: answer.status, headers: parseHead(answer.head), body: answer.body };
}

async function throughFastify(method: string, path: string, headers: Record<string, string>): Promise<Answer> {
  const res = await h.app.inject({
    method: method as 'GET',
    url: path,
    headers: { ...headers, 'user-agent': headers['User-Agent'] ?? '' },
  });
  return { status: res.statusCode, headers: res.headers as Record<string, string>, body: res.body };
}

const comparable = (answer: Answer) => ({
  status: answer.status,
  body: answer.body,
  headers: Object.fromEntries(Object.entries(answer.headers).filter(([name]) => !PER_ANSWER.has(name))),
});

beforeAll(async () => {
  h = await startHarness({
    listen: true,
    overrides: {
      trusted_proxies: ['127.0.0.1/32'],
      access_control: {
        default_policy: 'two_factor',
        rules: [
          { networks: ['203.0.113.0/24'], policy: 'deny' },
          { path: '/public', policy: 'bypass' },
          { path: '/forbidden', policy: 'deny' },
          { path: '/admin', policy: 'two_factor', max_auth_age: '5m' },
        ],
      },
    },
  });
  port = Number(new URL(h.baseUrl).port);
  const user = await addUser(
    h.deps,
    {
      username: 'gwen',
      password: 'correct horse battery staple',
      isAdmin: true,
      email: 'gwen@example.com',
      displayName: 'Gwen \u0007Stacy',
    },
    null,
  );
  const session = async (authAgeMs: number) => {
    const at = h.clock.now() - authAgeMs;
    const factors = [
      { method: 'pwd' as const, at },
      { method: 'otp' as const, at },
    ];
    const issued = await issueSession(h.deps, user, 'full', factors, { ip: '127.0.0.1', userAgent: USER_AGENT });
    if (authAgeMs === 0) expectedIdentity = identityHeaders(user, issued.session);
    return `${cookieNames(h.deps.config).session}=${issued.token}`;
  };
  fresh = await session(0);
  stale = await session(20 * 60_000);
});

afterAll(async () => {
  await h?.close();
});

describe('the direct forward-auth path', () => {
  const url = (path: string) => ({ 'X-Original-URL': `https://app.example.com${path}`, 'User-Agent': USER_AGENT });
  const forwarded = (path: string) => ({
    'X-Forwarded-Proto': 'https',
    'X-Forwarded-Host': 'app.example.com',
    'X-Forwarded-Uri': path,
    'User-Agent': USER_AGENT,
  });
  const cases: Array<[string, number, string, string, () => Record<string, string>]> = [
    ['allowed with identity headers', 200, 'GET', '/auth/request', () => ({ ...url('/reports'), Cookie: fresh })],
    ['allowed, bearer', 200, 'GET', '/auth/request', () => ({ ...url('/reports'), Authorization: `Bearer ${fresh.split('=')[1]}` })],
    ['a bypass rule, no session', 200, 'GET', '/auth/request', () => url('/public/logo.png')],
    ['no session: 401 for nginx', 401, 'GET', '/auth/request', () => url('/reports')],
    ['no session: 302 for Caddy', 302, 'GET', '/auth/forward', () => forwarded('/reports')],
    ['no session, POST: 401 for Caddy', 401, 'POST', '/auth/forward', () => ({ ...forwarded('/reports'), 'X-Forwarded-Method': 'POST' })],
    ['a deny rule', 403, 'GET', '/auth/request', () => ({ ...url('/forbidden/x'), Cookie: fresh })],
    ['a stale factor: step-up', 401, 'GET', '/auth/request', () => ({ ...url('/admin/users'), Cookie: stale })],
    [
      'an unknown token',
      401,
      'GET',
      '/auth/request',
      () => ({ ...url('/reports'), Cookie: `${cookieNames(h.deps.config).session}=${'A'.repeat(43)}` }),
    ],
    ['no original URL', 400, 'GET', '/auth/request', () => ({ 'User-Agent': USER_AGENT })],
    [
      'a client network the trusted proxy names',
      403,
      'GET',
      '/auth/request',
      () => ({ ...url('/public/x'), 'X-Forwarded-For': '203.0.113.9' }),
    ],
    ['HEAD', 200, 'HEAD', '/auth/request', () => ({ ...url('/reports'), Cookie: fresh })],
  ];

  it.each(cases)('answers as the Fastify route does: %s', async (_name, expected, method, path, headers) => {
    const before = (h.app as unknown as { gateFastPath: { handled: number } }).gateFastPath.handled;
    const socket = await overSocket(method, path, headers());
    expect((h.app as unknown as { gateFastPath: { handled: number } }).gateFastPath.handled).toBe(before + 1);
    const fastify = await throughFastify(method, path, headers());
    expect(comparable(socket)).toEqual(comparable(fastify));
    expect(socket.status).toBe(expected);
    expect(socket.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(socket.status).toBeLessThan(500);
  });

  it('sends identityHeaders() of the session, on the first answer and on cached ones alike', async () => {
    const expected = Object.fromEntries(Object.entries(expectedIdentity).map(([name, value]) => [name.toLowerCase(), value]));
    expect(expected).toMatchObject({
      'remote-user': 'gwen',
      'remote-email': 'gwen@example.com',
      'remote-name': 'Gwen Stacy',
      'remote-groups': 'admins',
      'remote-aal': '2',
    });
    for (let i = 0; i < 2; i++) {
      const socket = await overSocket('GET', '/auth/request', { ...url('/reports'), Cookie: fresh });
      expect(socket.status).toBe(200);
      expect(socket.headers).toMatchObject(expected);
    }
  });

  it('resolves the client address as Fastify does (trusted proxy, X-Forwarded-For)', async () => {
    const answer = await overSocket('GET', '/auth/request', { ...url('/public/x'), 'X-Forwarded-For': '203.0.113.9' });
    expect(answer.status).toBe(403);
    expect((await overSocket('GET', '/auth/request', url('/public/x'))).status).toBe(200);
  });

  it('keeps a proxy-given request id, and counts every check in the validation metric', async () => {
    const answer = await overSocket('GET', '/auth/request', { ...url('/reports'), Cookie: fresh, 'X-Request-Id': 'nginx-req-12345678' });
    expect(answer.headers['x-request-id']).toBe('nginx-req-12345678');
    const metrics = await h.app.inject({ method: 'GET', url: '/metrics', remoteAddress: '127.0.0.1' });
    expect(metrics.body).toMatch(/twofold_validation_duration_seconds_count\{kind="forward_auth",result="allowed"\} [1-9]/);
  });

  it('answers checks that arrive together each with its own answer (they are written out together, turn-writes.ts)', async () => {
    const kinds = [
      { headers: () => ({ ...url('/reports'), Cookie: fresh }), status: 200, user: 'gwen' },
      { headers: () => ({ ...url('/admin/users'), Cookie: stale }), status: 401, user: undefined },
      { headers: () => url('/public/logo.png'), status: 200, user: '' },
      { headers: () => url('/forbidden/x'), status: 403, user: undefined },
    ];
    const sent = Array.from({ length: 48 }, (_, i) => ({ i, kind: kinds[i % kinds.length]! }));
    const answers = await Promise.all(
      sent.map(({ i, kind }) => overSocket('GET', '/auth/request', { ...kind.headers(), 'X-Request-Id': `together-${i}` })),
    );
    for (const [n, answer] of answers.entries()) {
      const { i, kind } = sent[n]!;
      expect(answer.headers['x-request-id']).toBe(`together-${i}`);
      expect(answer.status).toBe(kind.status);
      expect(answer.headers['remote-user']).toBe(kind.user);
      if (kind.user === 'gwen') expect(answer.headers['remote-session']).toBe(expectedIdentity['Remote-Session']);
    }
  });

  it('hands a check whose session lookup throws at once (a cached check is synchronous) to Fastify, which answers as for any error; the next check is served again', async () => {
    const cache = h.deps.sessionCache;
    const get = cache.get;
    // A failure where the synchronous path reads: the session cache (its change log read can fail with the disk).
    cache.get = () => {
      throw new Error('disk I/O error');
    };
    let socket: Answer;
    let fastify: Answer;
    try {
      socket = await overSocket('GET', '/auth/request', { ...url('/reports'), Cookie: fresh });
      fastify = await throughFastify('GET', '/auth/request', { ...url('/reports'), Cookie: fresh });
    } finally {
      cache.get = get;
    }
    expect(socket.status).toBe(fastify.status);
    expect(socket.status).not.toBe(200);
    expect(socket.body).toBe(fastify.body);
    expect(socket.body).not.toContain('disk I/O error');
    expect((await overSocket('GET', '/auth/request', { ...url('/reports'), Cookie: fresh })).status).toBe(200);
  });

  it('leaves what is unusual to Fastify: a query string, a trailing slash, a body', async () => {
    const before = (h.app as unknown as { gateFastPath: { handled: number } }).gateFastPath.handled;
    expect((await overSocket('GET', '/auth/request?x=1', { ...url('/reports'), Cookie: fresh })).status).toBe(200);
    expect((await overSocket('GET', '/auth/request/', { ...url('/reports'), Cookie: fresh })).status).toBe(200);
    const withBody = await sendRaw(
      port,
      [
        'POST /auth/request HTTP/1.1',
        `Host: 127.0.0.1:${port}`,
        'X-Original-URL: https://app.example.com/reports',
        `Cookie: ${fresh}`,
        `User-Agent: ${USER_AGENT}`,
        'Content-Type: text/plain',
        'Content-Length: 5',
        'Connection: close',
        '',
        'hello',
      ].join('\r\n'),
    );
    expect(withBody.status).toBe(200);
    expect((h.app as unknown as { gateFastPath: { handled: number } }).gateFastPath.handled).toBe(before);
  });
});
