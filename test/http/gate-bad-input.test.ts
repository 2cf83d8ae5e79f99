import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSession } from '../../src/auth/sessions.js';
import { addUser } from '../../src/auth/users.js';
import { cookieNames } from '../../src/http/cookies.js';
import { sendRaw } from '../gate/support.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * Bad input at the gate, sent straight to a listening twofold (no proxy in between to clean it up):
 * missing or garbled forwarding headers, bad hosts, huge and garbled cookies. Every answer is a 4xx
 * or the sign-in redirect, never a 500, and never "allow", with or without a valid session.
 * (test/gate/nginx.test.ts and caddy.test.ts send the same kinds of input through the real proxies.)
 */

let h: Harness;
let port: number;
/** `Cookie` header of a live two-factor session: allowed on a good request, so a refusal is the input's doing. */
let session: string;
let sessionName: string;

const ERROR_CODES = new Set(['bad_forwarded_request', 'unauthenticated', 'forbidden', 'step_up_required']);
/** The answers of src/http/client-errors.ts, by code. */
const PARSER_REFUSALS: Record<string, number> = { bad_request: 400, headers_too_large: 431 };

interface Answer {
  status: number;
  head: string;
  body: string;
}

/** A request as raw bytes, so that nothing on the client side cleans the headers up. */
function raw(path: string, headers: Array<[string, string]>): Promise<Answer> {
  const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, ...headers.map(([k, v]) => `${k}: ${v}`), 'Connection: close'];
  return sendRaw(port, `${lines.join('\r\n')}\r\n\r\n`);
}

/** Never allowed, never a server error: a 4xx (JSON when twofold wrote it) or the portal redirect. */
function expectRefused(what: string, answer: Answer, allowed: number[] = []): void {
  expect(answer.status, `${what}: ${answer.head.slice(0, 200)}`).toBeGreaterThanOrEqual(300);
  expect(answer.status, what).toBeLessThan(500);
  expect(answer.status, what).not.toBe(200);
  if (allowed.length > 0) expect(allowed, `${what} answered ${answer.status}`).toContain(answer.status);
  expect(answer.head.toLowerCase(), what).not.toMatch(/^remote-user: .+/m);
  if (answer.status < 400) return;
  const body = JSON.parse(answer.body) as { error: { code: string; message: string } };
  if (PARSER_REFUSALS[body.error.code] !== undefined) {
    // Refused by Node's HTTP parser before any route ran (a control character in a header, a head
    // over 16 KB): src/http/client-errors.ts answers in the same error shape.
    expect(PARSER_REFUSALS[body.error.code], `${what}: ${answer.body}`).toBe(answer.status);
    expect(body.error.message.length).toBeGreaterThan(0);
    return;
  }
  expect(ERROR_CODES, `${what}: ${answer.body}`).toContain(body.error.code);
  expect(body.error.message.length).toBeGreaterThan(0);
}

beforeAll(async () => {
  h = await startHarness({
    listen: true,
    overrides: { access_control: { default_policy: 'two_factor', rules: [{ path: '/health', policy: 'bypass' }] } },
  });
  port = Number(new URL(h.baseUrl).port);
  const user = await addUser(h.deps, { username: 'gina', password: 'correct horse battery staple', isAdmin: false }, null);
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
  sessionName = cookieNames(h.deps.config).session;
  session = `${sessionName}=${token}`;
});

afterAll(async () => {
  await h?.close();
});

const forwarded = (proto: string, host: string, uri: string): Array<[string, string]> => [
  ['X-Forwarded-Proto', proto],
  ['X-Forwarded-Host', host],
  ['X-Forwarded-Uri', uri],
];

describe('bad input at the gate: a 4xx or the sign-in redirect, never a 500, never allowed', () => {
  it('the good requests are allowed (so each refusal below is the bad input)', async () => {
    const a = await raw('/auth/request', [
      ['X-Original-URL', 'https://app.example.com/x'],
      ['Cookie', session],
    ]);
    const b = await raw('/auth/forward', [...forwarded('https', 'app.example.com', '/x'), ['Cookie', session]]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.head).toMatch(/^remote-user: gina$/im);
  });

  it('missing forwarding headers: 400, with or without a session', async () => {
    for (const cookie of [[], [['Cookie', session]]] as Array<Array<[string, string]>>) {
      const label = cookie.length ? 'with session' : 'anonymous';
      expectRefused(`request, nothing, ${label}`, await raw('/auth/request', cookie), [400]);
      expectRefused(`forward, nothing, ${label}`, await raw('/auth/forward', cookie), [400]);
      // Each endpoint reads its own proxy's headers only: the other family does not count.
      expectRefused(
        `request, X-Forwarded-* only, ${label}`,
        await raw('/auth/request', [...forwarded('https', 'app.example.com', '/x'), ...cookie]),
        [400],
      );
      expectRefused(
        `forward, X-Original-URL only, ${label}`,
        await raw('/auth/forward', [['X-Original-URL', 'https://app.example.com/x'], ...cookie]),
        [400],
      );
      for (const partial of [
        [
          ['X-Forwarded-Host', 'app.example.com'],
          ['X-Forwarded-Uri', '/x'],
        ],
        [
          ['X-Forwarded-Proto', 'https'],
          ['X-Forwarded-Uri', '/x'],
        ],
      ] as Array<Array<[string, string]>>) {
        expectRefused(
          `forward, ${partial.map(([k]) => k).join('+')}, ${label}`,
          await raw('/auth/forward', [...partial, ...cookie]),
          [400],
        );
      }
    }
  });

  it('garbled forwarding headers and bad hosts: 400, with or without a session', async () => {
    const badOriginalUrls = [
      '',
      'app.example.com/x',
      'javascript:alert(1)',
      'https://',
      'https://exa mple.com/x',
      'https://-app.example.com/x',
      'https://app..example.com/x',
      'https://[::1/x',
      `https://${'h'.repeat(300)}.example.com/x`,
      'https://app.example.com:123456/x',
      'https://127.0.0.1\\health#/admin',
      'https://health@app.example.com/admin',
      'https://app.example.com%2F/health',
      'https://app.example.com/x\u0001y',
      'https://app.example.com/%2e%2e%2Fhealth/..%2fadmin',
      `https://app.example.com/${'a'.repeat(9000)}`,
      'https://app.example.com/x, https://app.example.com/health',
    ];
    const badForwarded: Array<[string, string, string]> = [
      ['ftp', 'app.example.com', '/x'],
      ['', 'app.example.com', '/x'],
      ['https', '', '/x'],
      ['https', 'exa mple.com', '/x'],
      ['https', 'app.example.com/health', '/x'],
      ['https', 'app.example.com?', '/health'],
      ['https', 'app.example.com#', '/health'],
      ['https', 'health@app.example.com', '/admin'],
      ['https', 'app.example.com\\health', '/x'],
      ['https', `${'h'.repeat(300)}.example.com`, '/x'],
      ['https', 'app.example.com', 'x'],
      ['https', 'app.example.com', '//evil.example/x'],
      ['https', 'app.example.com', '/x#frag'],
      ['https', 'app.example.com', '/x\\..\\health'],
      ['https', 'app.example.com', '/he alth'],
      ['https', 'app.example.com', '/health/..%2Fadmin'],
      ['https', 'app.example.com', `/${'u'.repeat(9000)}`],
    ];
    for (const cookie of [[], [['Cookie', session]]] as Array<Array<[string, string]>>) {
      const label = cookie.length ? 'with session' : 'anonymous';
      for (const url of badOriginalUrls) {
        expectRefused(
          `X-Original-URL ${JSON.stringify(url.slice(0, 60))} ${label}`,
          await raw('/auth/request', [['X-Original-URL', url], ...cookie]),
          [400],
        );
      }
      for (const [proto, host, uri] of badForwarded) {
        const what = `X-Forwarded ${JSON.stringify([proto, host.slice(0, 40), uri.slice(0, 40)])} ${label}`;
        expectRefused(what, await raw('/auth/forward', [...forwarded(proto, host, uri), ...cookie]), [400]);
      }
      for (const method of ['G E T', 'GET;x', 'A'.repeat(17), '%47ET', '']) {
        expectRefused(
          `X-Original-Method ${method}`,
          await raw('/auth/request', [['X-Original-URL', 'https://app.example.com/x'], ['X-Original-Method', method], ...cookie]),
          [400],
        );
        expectRefused(
          `X-Forwarded-Method ${method}`,
          await raw('/auth/forward', [...forwarded('https', 'app.example.com', '/x'), ['X-Forwarded-Method', method], ...cookie]),
          [400],
        );
      }
    }
    // Bytes outside ASCII in a header (latin1 on the wire): a host or a path with them is refused
    // (test/security/fuzz-http.test.ts has the path case with a session that would be allowed).
    expectRefused(
      'latin1 byte in X-Original-URL',
      await raw('/auth/request', [['X-Original-URL', 'https://app.example.com/caf\u00e9']]),
      [400],
    );
    expectRefused(
      'latin1 byte in X-Forwarded-Host',
      await raw('/auth/forward', [...forwarded('https', 'app.ex\u00e4mple.com', '/x'), ['Cookie', session]]),
      [400],
    );
  });

  it('huge cookies: a 16 KB Cookie header is refused (431) even with a valid session in it; an 8 KB junk token is no session', async () => {
    const big = `junk=${'j'.repeat(16 * 1024)}`;
    for (const cookie of [big, `${session}; ${big}`, `${big}; ${session}`]) {
      expectRefused(
        '16 KB cookie, request',
        await raw('/auth/request', [
          ['X-Original-URL', 'https://app.example.com/x'],
          ['Cookie', cookie],
        ]),
        [431],
      );
      expectRefused(
        '16 KB cookie, forward',
        await raw('/auth/forward', [...forwarded('https', 'app.example.com', '/x'), ['Cookie', cookie]]),
        [431],
      );
    }
    const junkToken = `${sessionName}=${'A'.repeat(8000)}`;
    expectRefused(
      '8 KB token, request',
      await raw('/auth/request', [
        ['X-Original-URL', 'https://app.example.com/x'],
        ['Cookie', junkToken],
      ]),
      [401],
    );
    expectRefused(
      '8 KB token, forward',
      await raw('/auth/forward', [...forwarded('https', 'app.example.com', '/x'), ['Cookie', junkToken]]),
      [302],
    );
    // Many small cookies, none of them a session.
    const many = Array.from({ length: 500 }, (_, i) => `c${i}=${i}`).join('; ');
    expectRefused(
      '500 cookies',
      await raw('/auth/request', [
        ['X-Original-URL', 'https://app.example.com/x'],
        ['Cookie', many],
      ]),
      [401],
    );
  });

  it('garbled cookies and credentials are no session: 401 (request) or the sign-in redirect (forward)', async () => {
    const token = session.slice(sessionName.length + 1);
    const garbled: Array<[string, string]> = [
      ['Cookie', `${sessionName}=%E0%A4%A`],
      ['Cookie', `${sessionName}=${token.slice(0, -1)}`],
      ['Cookie', `${sessionName}=${token}x`],
      ['Cookie', `${sessionName}="${token}`],
      ['Cookie', `${sessionName}=${token.replace(/./, '%00')}`],
      ['Cookie', `${sessionName}`],
      ['Cookie', `=${token}`],
      ['Cookie', ';;;=;'],
      ['Cookie', `${sessionName}=\u00ff\u00fe`],
      ['Authorization', `Bearer ${'x'.repeat(500)}`],
      ['Authorization', 'Bearer '],
      ['Authorization', `Bearer ${token.slice(1)}`],
    ];
    for (const header of garbled) {
      const what = `${header[0]}: ${JSON.stringify(header[1].slice(0, 60))}`;
      expectRefused(`${what} request`, await raw('/auth/request', [['X-Original-URL', 'https://app.example.com/x'], header]), [401]);
      expectRefused(`${what} forward`, await raw('/auth/forward', [...forwarded('https', 'app.example.com', '/x'), header]), [302]);
    }
    // A bad Bearer token is not rescued by a good session cookie.
    expectRefused(
      'bad bearer + good cookie',
      await raw('/auth/request', [
        ['X-Original-URL', 'https://app.example.com/x'],
        ['Authorization', `Bearer ${'y'.repeat(43)}`],
        ['Cookie', session],
      ]),
      [401],
    );
  });

  it('refusals carry the page security headers (a browser may show them); a 200 for the proxy carries no-store only', async () => {
    const header = (answer: Answer, name: string) => new RegExp(`^${name}: (.*)$`, 'im').exec(answer.head)?.[1];
    const allowed = await raw('/auth/request', [
      ['X-Original-URL', 'https://app.example.com/x'],
      ['Cookie', session],
    ]);
    expect(allowed.status).toBe(200);
    expect(header(allowed, 'cache-control')).toBe('no-store');
    expect(header(allowed, 'content-security-policy')).toBeUndefined();
    const refusals = [
      await raw('/auth/request', [['X-Original-URL', 'https://app.example.com/x']]),
      await raw('/auth/forward', forwarded('https', 'app.example.com', '/x')),
      await raw('/auth/forward', []),
    ];
    expect(refusals.map((r) => r.status)).toEqual([401, 302, 400]);
    for (const refusal of refusals) {
      expect(header(refusal, 'cache-control')).toBe('no-store');
      expect(header(refusal, 'content-security-policy')).toContain("frame-ancestors 'none'");
      expect(header(refusal, 'x-frame-options')).toBe('DENY');
      expect(header(refusal, 'x-content-type-options')).toBe('nosniff');
    }
  });

  it('the server is still answering after all of it', async () => {
    const res = await fetch(`${h.baseUrl}/auth/request`, { headers: { 'X-Original-URL': 'https://app.example.com/x', cookie: session } });
    expect(res.status).toBe(200);
  });
});
