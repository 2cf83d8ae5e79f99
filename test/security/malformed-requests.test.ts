import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSession } from '../../src/auth/sessions.js';
import { addUser } from '../../src/auth/users.js';
import { cookieNames } from '../../src/http/cookies.js';
import type { FastifyInstance } from 'fastify';
import { targetUrl } from '../../src/http/forwarded-request.js';
import { buildReverseProxy, clientHeaders } from '../../src/http/proxy/reverse-proxy.js';
import { startEchoUpstream, type EchoUpstream } from '../gate/support.js';
import { freePort, startHarness, type Harness } from '../support/harness.js';
import { sendRawBytes, type Answer } from './fuzz-wire.js';

/**
 * The two holes the HTTP fuzzing found (docs/security/fuzzing.md), proved closed:
 * - a forwarded path with bytes outside ASCII is refused with 400, not judged: the app behind the
 *   proxy may read "/ａdmin" as "/admin" and serve what a deny rule for "/admin" protects;
 * - requests Node's HTTP parser refuses (431, 400) are answered in the API's JSON error shape, with
 *   the security headers, and the connection is closed.
 */

let h: Harness;
let port: number;
let hostPort: string;
let upstream: EchoUpstream;
let proxy: FastifyInstance;
let proxyPort: number;
/** `Cookie` header of a live two-factor session: a refusal below is the input's doing, not a missing sign-in. */
let session: string;

/** UTF-8 bytes as they arrive in a header (Node reads header bytes as latin1). */
const onTheWire = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

beforeAll(async () => {
  upstream = await startEchoUpstream();
  proxyPort = await freePort();
  h = await startHarness({
    listen: true,
    overrides: {
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
  proxy = await buildReverseProxy(h.deps, { logger: false });
  await proxy.listen({ host: '127.0.0.1', port: proxyPort });
  port = Number(new URL(h.baseUrl).port);
  hostPort = `127.0.0.1:${port}`;
  const user = await addUser(h.deps, { username: 'nadia', password: 'correct horse battery staple', isAdmin: false }, null);
  const now = h.clock.now();
  const { token } = await issueSession(
    h.deps,
    user,
    'full',
    [
      { method: 'pwd', at: now },
      { method: 'otp', at: now },
    ],
    { ip: '203.0.113.1', userAgent: 'test' },
  );
  session = `${cookieNames(h.deps.config).session}=${token}`;
});

afterAll(async () => {
  await proxy?.close();
  await h?.close();
  await upstream?.close();
});

const gate = (endpoint: '/auth/request' | '/auth/forward', headers: Record<string, string>) =>
  h.app.inject({ method: 'GET', url: endpoint, headers: { cookie: session, ...headers } });
const original = (url: string) => gate('/auth/request', { 'x-original-url': url });
const forwarded = (uri: string) =>
  gate('/auth/forward', { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'app.example.com', 'x-forwarded-uri': uri });

function expectBadForwardedRequest(res: { statusCode: number; json(): unknown; headers: Record<string, unknown> }, what: string) {
  expect(res.statusCode, what).toBe(400);
  expect(String(res.headers['content-type']), what).toMatch(/^application\/json/);
  const { error } = res.json() as { error: { code: string; message: string } };
  expect(error.code, what).toBe('bad_forwarded_request');
  expect(error.message, what).toContain('ASCII');
  expect(res.headers['remote-user'], what).toBeUndefined();
}

describe('forward-auth refuses a forwarded path with bytes outside ASCII', () => {
  it('the same session is allowed on an ASCII path and denied on /admin (so each refusal below is the bytes)', async () => {
    expect((await original('https://app.example.com/x')).statusCode).toBe(200);
    expect((await forwarded('/x')).statusCode).toBe(200);
    expect((await original('https://app.example.com/admin')).statusCode).toBe(403);
    expect((await forwarded('/admin')).statusCode).toBe(403);
  });

  it.each([
    ['fullwidth "a" (NFKC makes it "/admin")', '/\uff41dmin'],
    ['a latin letter', '/adm\u00efn'],
    ['a byte that is not UTF-8', '/admin\u00ff'],
    ['one in the query', '/x?next=\u00e9'],
    ['a right-to-left override', '/x\u202e/nimda'],
  ])('%s → 400 bad_forwarded_request, on both endpoints', async (_label, path) => {
    expectBadForwardedRequest(await original(`https://app.example.com${onTheWire(path)}`), `X-Original-URL ${path}`);
    expectBadForwardedRequest(await forwarded(onTheWire(path)), `X-Forwarded-Uri ${path}`);
  });

  it('control characters and DEL are refused the same way (Node refuses most of them on the wire already)', async () => {
    for (const path of ['/x\u0001', '/x\u007f', '/x\ty']) {
      expectBadForwardedRequest(await original(`https://app.example.com${path}`), JSON.stringify(path));
      expectBadForwardedRequest(await forwarded(path), JSON.stringify(path));
    }
  });

  it('the percent-encoded form, which is what a browser sends, is still judged as a path', async () => {
    expect((await original('https://app.example.com/caf%C3%A9')).statusCode).toBe(200);
    expect((await forwarded('/%EF%BD%81dmin')).statusCode).toBe(200);
  });

  it('over a real socket too: raw UTF-8 bytes in X-Forwarded-Uri → 400 JSON', async () => {
    const head = [
      'GET /auth/forward HTTP/1.1',
      `host: ${hostPort}`,
      `cookie: ${session}`,
      'x-forwarded-proto: https',
      'x-forwarded-host: app.example.com',
      `x-forwarded-uri: ${onTheWire('/\uff41dmin')}`,
      'connection: close',
    ];
    const answer = await sendRawBytes(port, Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'));
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { code: 'bad_forwarded_request' } });
    expect(answer.headers['remote-user']).toBeUndefined();
  });

  it('the built-in proxy refuses such a request target the same way', () => {
    const publicUrl = new URL('https://app.example.com');
    expect(targetUrl(publicUrl, '/x')?.pathname).toBe('/x');
    expect(targetUrl(publicUrl, onTheWire('/\uff41dmin'))).toBeNull();
    expect(targetUrl(publicUrl, '/adm\u00efn')).toBeNull();
  });
});

/** The parser's refusal in our error shape, with the security headers, on a closed connection. */
function expectParserRefusal(answer: Answer & { timedOut: boolean }, status: number, code: string, what: string, pageHeaders = true) {
  expect(answer.timedOut, `${what}: the server must close the connection`).toBe(false);
  expect(answer.status, what).toBe(status);
  expect(answer.headers['content-type'], what).toBe('application/json; charset=utf-8');
  expect(answer.headers.connection, what).toBe('close');
  // twofold's own port adds the page security headers; the proxy answers for the app and adds none.
  if (pageHeaders) expect(answer.headers['x-content-type-options'], what).toBe('nosniff');
  expect(Number(answer.headers['content-length']), what).toBe(Buffer.byteLength(answer.body));
  const { error } = JSON.parse(answer.body) as { error: { code: string; message: string } };
  expect(error.code, what).toBe(code);
  expect(error.message.length, what).toBeGreaterThan(0);
}

describe("requests Node's HTTP parser refuses are answered with a JSON error and a closed connection", () => {
  const raw = (text: string, options: { halfClose?: boolean } = {}) =>
    sendRawBytes(port, Buffer.from(text, 'latin1'), { timeoutMs: 8_000, ...options });

  it('a request head over the size limit → 431 headers_too_large', async () => {
    const answer = await raw(`GET /api/v1/session HTTP/1.1\r\nhost: ${hostPort}\r\nx-big: ${'b'.repeat(20_000)}\r\n\r\n`);
    expectParserRefusal(answer, 431, 'headers_too_large', 'oversized header');
    // A page path too: the parser knows no paths, and a JSON answer is what a program can read.
    const cookie = await raw(`GET /login HTTP/1.1\r\nhost: ${hostPort}\r\ncookie: junk=${'j'.repeat(17_000)}\r\n\r\n`);
    expectParserRefusal(cookie, 431, 'headers_too_large', 'oversized cookie');
  });

  it('a client still sending its oversized head gets the answer, then is disconnected', async () => {
    // No end of head and no close from this client: the server answers and then drops the connection.
    const answer = await raw(`GET / HTTP/1.1\r\nhost: ${hostPort}\r\nx-big: ${'b'.repeat(40_000)}`);
    expectParserRefusal(answer, 431, 'headers_too_large', 'unterminated oversized head');
  });

  it.each([
    ['a garbage request line', 'hello world\r\n\r\n'],
    ['a bad HTTP version', `GET / HTTP/9.9\r\nhost: x\r\n\r\n`],
    ['a NUL in a header value', `GET / HTTP/1.1\r\nhost: x\r\nx-nul: a\u0000b\r\n\r\n`],
    ['a header line without a colon', `GET / HTTP/1.1\r\nhost: x\r\nno-colon\r\n\r\n`],
    [
      'Content-Length and Transfer-Encoding together (request smuggling)',
      `POST /api/v1/login HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\nhello`,
    ],
    ['two different Content-Lengths', `POST /api/v1/login HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello`],
    [
      'a bad chunk size',
      `POST /api/v1/login HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`,
    ],
    ['an HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
  ])('%s → 400 bad_request', async (label, text) => {
    expectParserRefusal(await raw(text), 400, 'bad_request', label);
  });

  it('the server keeps serving afterwards', async () => {
    const answer = await raw(`GET /healthz HTTP/1.1\r\nhost: ${hostPort}\r\nconnection: close\r\n\r\n`);
    expect(answer.status).toBe(200);
  });
});

describe('the built-in proxy answers in the same shape and honours Connection: close', () => {
  const raw = (text: string) => sendRawBytes(proxyPort, Buffer.from(text, 'latin1'), { timeoutMs: 8_000 });
  const proxyHost = () => `127.0.0.1:${proxyPort}`;

  it("a client's Connection: close ends the connection after the app's answer (no hop-by-hop header of the app's connection comes back)", async () => {
    for (const method of ['GET', 'POST', 'DELETE']) {
      const answer = await raw(`${method} /public/x HTTP/1.1\r\nhost: ${proxyHost()}\r\ncontent-length: 3\r\nconnection: close\r\n\r\nabc`);
      expect(answer.timedOut, `${method}: the proxy kept the connection open`).toBe(false);
      expect(answer.status).toBe(200);
      expect(answer.headers['x-echo']).toBe('upstream');
      expect(answer.headers.connection).toBe('close');
      expect(answer.headers['keep-alive']).toBeUndefined();
    }
  });

  it('clientHeaders drops hop-by-hop headers and those Connection names, and keeps the rest', () => {
    expect(
      clientHeaders({
        connection: 'keep-alive, x-hop',
        'keep-alive': 'timeout=5',
        'x-hop': '1',
        'transfer-encoding': 'chunked',
        upgrade: 'h2c',
        'content-type': 'text/plain',
        'set-cookie': ['a=1'],
      }),
    ).toEqual({ 'content-type': 'text/plain', 'set-cookie': ['a=1'] });
  });

  it("a method the proxy does not forward → 405 JSON with Allow (not Fastify's 404 echoing the URL)", async () => {
    const res = await proxy.inject({ method: 'PROPFIND' as 'GET', url: '/public/x' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT');
    expect(res.json()).toMatchObject({ error: { code: 'method_not_allowed' } });
    expect(res.body).not.toContain('/public/x');
  });

  it('broken percent-encoding → 400 JSON, and nothing reaches the app', async () => {
    const before = upstream.received.length;
    const res = await proxy.inject({ method: 'GET', url: '/public/%ZZ' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: { code: 'bad_request' } });
    expect(upstream.received.length).toBe(before);
  });

  it('an app that is down → 502 bad_gateway JSON, not a 500', async () => {
    const deadPort = await freePort();
    const config = { ...h.deps.config, proxy: { ...h.deps.config.proxy!, upstream: new URL(`http://127.0.0.1:${deadPort}`) } };
    const orphan = await buildReverseProxy({ ...h.deps, config }, { logger: false });
    try {
      const res = await orphan.inject({ method: 'GET', url: '/public/x' });
      expect(res.statusCode).toBe(502);
      expect(res.json()).toMatchObject({ error: { code: 'bad_gateway' } });
    } finally {
      await orphan.close();
    }
  });

  it("requests Node's HTTP parser refuses on the proxy's port → the same JSON errors", async () => {
    expectParserRefusal(
      await raw(`GET /public/x HTTP/1.1\r\nhost: ${proxyHost()}\r\nx-big: ${'b'.repeat(20_000)}\r\n\r\n`),
      431,
      'headers_too_large',
      'proxy 431',
      false,
    );
    expectParserRefusal(await raw('hello world\r\n\r\n'), 400, 'bad_request', 'proxy 400', false);
  });
});
