import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSession } from '../../src/auth/sessions.js';
import { addUser } from '../../src/auth/users.js';
import { MASK } from '../../src/core/admin/config-view.js';
import type { User } from '../../src/store/store.js';
import { startHarness, type Harness } from '../support/harness.js';
import {
  ApiClient,
  enrollTotp,
  expectJsonError,
  OTHER_STRONG_PASSWORD,
  signInWithTotp,
  STRONG_PASSWORD,
  totpAt,
  type EnrolledUser,
} from '../http/client.js';

/**
 * The admin API over real HTTP injection against a real server (SQLite file, argon2) with a manual
 * clock. Data is made the way users make it: sign-ins, failures and sessions through the public API.
 */

const MINUTE = 60_000;
const METRICS_TOKEN = 'metrics-secret-token-0123456789';

/** Every admin API route, as a non-admin must meet it: 403 whatever the method. */
const ADMIN_API: Array<[method: string, url: string]> = [
  ['GET', '/api/v1/admin/overview'],
  ['GET', '/api/v1/admin/overview?range=7d'],
  ['GET', '/api/v1/admin/users'],
  ['GET', '/api/v1/admin/users/usr_nonexistent'],
  ['DELETE', '/api/v1/admin/users/usr_nonexistent/sessions'],
  ['GET', '/api/v1/admin/sessions'],
  ['DELETE', '/api/v1/admin/sessions/ses_nonexistent'],
  ['GET', '/api/v1/admin/events'],
  ['GET', '/api/v1/admin/events/export?format=csv'],
  ['GET', '/api/v1/admin/events/export?format=jsonl'],
  ['GET', '/api/v1/admin/policy'],
];

const ADMIN_PAGES: Array<[method: string, url: string]> = [
  ['GET', '/admin'],
  ['GET', '/admin/users'],
  ['GET', '/admin/users/usr_nonexistent'],
  ['POST', '/admin/users/usr_nonexistent/sessions/revoke'],
  ['GET', '/admin/sessions'],
  ['POST', '/admin/sessions/ses_nonexistent/revoke'],
  ['GET', '/admin/events'],
  ['GET', '/admin/policy'],
];

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') ((cell += '"'), i++);
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') (row.push(cell), (cell = ''));
    else if (ch === '\r' && text[i + 1] === '\n') {
      (row.push(cell), rows.push(row), (row = []), (cell = ''), i++);
    } else cell += ch;
  }
  if (cell || row.length) (row.push(cell), rows.push(row));
  return rows;
}

describe('admin API', () => {
  let h: Harness;
  let admin: ApiClient;
  let adminUser: EnrolledUser;
  let aliceUser: User;
  let alice: EnrolledUser;
  const aliceDevices: ApiClient[] = [];
  let bobClient: ApiClient;

  beforeAll(async () => {
    h = await startHarness({ overrides: { 'metrics.token': METRICS_TOKEN } });
    await addUser(h.deps, { username: 'root', password: STRONG_PASSWORD, isAdmin: true }, null);
    aliceUser = await addUser(h.deps, { username: 'alice', password: STRONG_PASSWORD, isAdmin: false, displayName: 'Alice Liddell' }, null);
    await addUser(h.deps, { username: 'bob', password: OTHER_STRONG_PASSWORD, isAdmin: false }, null);

    admin = new ApiClient(h, { ip: '198.51.100.10', userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' });
    adminUser = await enrollTotp(h, admin, 'root', STRONG_PASSWORD);

    // alice: enrolls on her laptop, then signs in from two more devices on other networks.
    const laptop = new ApiClient(h, {
      ip: '203.0.113.7',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
    });
    alice = await enrollTotp(h, laptop, 'alice', STRONG_PASSWORD);
    aliceDevices.push(laptop);
    for (const [ip, ua] of [
      ['203.0.113.8', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15'],
      [
        '192.0.2.44',
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      ],
    ] as const) {
      const device = new ApiClient(h, { ip, userAgent: ua });
      expect((await signInWithTotp(h, device, alice)).status).toBe(200);
      aliceDevices.push(device);
    }

    // bob: a wrong password twice, then a right password and a wrong code (he never enrolled: enrollment session).
    bobClient = new ApiClient(h, { ip: '192.0.2.99', userAgent: 'curl/8.5.0' });
    expect((await bobClient.login('bob', 'not his password at all')).status).toBe(401);
    expect((await bobClient.login('bob', 'still not his password')).status).toBe(401);
    expect((await bobClient.login('bob', OTHER_STRONG_PASSWORD)).body.state).toBe('enrollment_required');
    // alice mistypes a code once.
    const typo = new ApiClient(h, { ip: '203.0.113.7' });
    h.clock.advance(30_000);
    expect((await typo.login('alice', STRONG_PASSWORD)).body.state).toBe('second_factor_required');
    expect((await typo.secondFactor('totp', '000000')).status).toBe(401);
    // Someone tries an account that does not exist.
    expect((await new ApiClient(h, { ip: '192.0.2.200' }).login('mallory', 'guessing a password')).status).toBe(401);

    // The admin signs in afresh so the second factor is recent.
    admin.clear();
    expect((await signInWithTotp(h, admin, adminUser)).status).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('is refused to non-admins (403) on every route, and to anonymous callers (401)', async () => {
    const bob = bobClient; // an enrollment session: signed in, but not even a full session
    const laptop = aliceDevices[0]!;
    for (const [method, url] of ADMIN_API) {
      expectJsonError(await laptop.request(method, url), 403, 'forbidden');
      expectJsonError(await new ApiClient(h).request(method, url), 401, 'unauthenticated');
      expect((await bob.request(method, url)).status).toBe(403);
    }
  });

  it('is refused to non-admins (403) on every page, and sends anonymous visitors to sign in', async () => {
    const laptop = aliceDevices[0]!;
    for (const [method, url] of ADMIN_PAGES) {
      const res = await laptop.request(
        method,
        url,
        method === 'POST' ? { body: `_csrf=${laptop.csrfToken}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {},
      );
      expect(res.status, `${method} ${url}`).toBe(403);
      expect(String(res.headers['content-type'])).toContain('text/html');
      if (method === 'GET') {
        const anonymous = await new ApiClient(h).get(url);
        expect(anonymous.status).toBe(303);
        expect(anonymous.headers.location).toMatch(/^\/login/);
      }
    }
  });

  it('asks an administrator whose second factor is older than 10 minutes to step up, then lets them in', async () => {
    h.clock.advance(11 * MINUTE);
    const stale = await admin.get('/api/v1/admin/overview');
    expectJsonError(stale, 401, 'step_up_required');
    expect(stale.body.error.step_up).toMatchObject({ reason: 'stale', max_age_s: 600, endpoint: '/api/v1/session/step-up' });
    const page = await admin.get('/admin/events?type=login.*');
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe(`/step-up?return_to=${encodeURIComponent('/admin/events?type=login.*')}`);

    h.clock.advance(30_000);
    const stepped = await admin.post('/api/v1/session/step-up', { method: 'totp', code: totpAt(adminUser.secret, h.clock.now()) });
    expect(stepped.status).toBe(200);
    expect((await admin.get('/api/v1/admin/overview')).status).toBe(200);
    expect((await admin.get('/admin')).status).toBe(200);
  });

  it('overview counts sign-ins by outcome', async () => {
    const res = await admin.get('/api/v1/admin/overview');
    expect(res.status).toBe(200);
    const o = res.body;
    // success: root x1 + alice x2 TOTP sign-ins (an enrollment ends with a confirmation, not a sign-in);
    // second_factor_asked: passwords answered with a code or enrollment to come: root x2, alice x4, bob x1;
    // failed: bob's two wrong passwords, alice's wrong code, mallory's unknown account.
    expect(o.totals).toEqual({ success: 3, second_factor_asked: 7, denied: 0, failed: 4 });
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    expect(sum(o.sign_ins.series.success)).toBe(3);
    expect(o.sign_ins.buckets).toHaveLength(24);
    expect(o.active_sessions).toBe(await h.deps.store.admin.countActiveSessions(h.clock.now()));
    // The risk engine judged every accepted password (7): its verdicts count once, not beside the passwords.
    expect(o.risk.decisions).toBe(7);
    expect(o.networks.map((n: { key: string }) => n.key)).toContain('203.0.113.0/24');
    // The four failed steps, and whichever of the engine's verdicts fell in a high band.
    type Suspicious = { type: string; outcome: string; detail: { band?: string; decision?: string } | null };
    const steps = o.suspicious.filter((e: Suspicious) => e.type !== 'risk.decision');
    expect(steps).toHaveLength(4);
    expect(steps.every((e: Suspicious) => e.outcome === 'failure')).toBe(true);
    for (const e of o.suspicious.filter((x: Suspicious) => x.type === 'risk.decision'))
      expect(e.outcome === 'failure' || /high/.test(e.detail!.band!) || /deny/.test(e.detail!.decision!)).toBe(true);
  });

  it('shows the risk engine’s decisions: score histogram, bands, reasons', async () => {
    const before = (await admin.get('/api/v1/admin/overview')).body.risk;
    // Decisions of an engine with enough history to enforce, written the way its sign-in integration writes them.
    const decisions = [
      { score: 0.05, band: 'low', decision: 'allow', reasons: [] },
      { score: 0.08, band: 'low', decision: 'allow', reasons: [] },
      { score: 0.55, band: 'medium', decision: 'step_up', reasons: ['new_device'] },
      { score: 0.91, band: 'high', decision: 'deny', reasons: ['new_country', 'impossible_travel'] },
    ];
    for (const detail of decisions) {
      await h.deps.store.events.append({
        at: h.clock.now(),
        type: 'risk.decision',
        outcome: detail.decision === 'deny' ? 'failure' : 'success',
        userId: aliceUser.id,
        sessionId: null,
        ip: '198.51.100.77',
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
        reason: null,
        detail: { ...detail, country: 'PT' },
      });
    }
    const o = (await admin.get('/api/v1/admin/overview')).body;
    expect(o.risk.decisions).toBe(before.decisions + 4);
    expect(o.risk.histogram.counts.reduce((a: number, b: number) => a + b, 0)).toBe(o.risk.decisions);
    const scores = (await h.deps.store.admin.searchEvents({ types: ['risk.decision'], limit: 1000 })).map((e) => Number(e.detail!.score));
    expect(o.risk.histogram.edges[0]).toBeLessThanOrEqual(Math.min(...scores));
    const band = (risk: { bands: Array<{ key: string; count: number }> }, key: string) => risk.bands.find((b) => b.key === key)?.count ?? 0;
    expect(band(o.risk, 'high') - band(before, 'high')).toBe(1);
    expect(band(o.risk, 'low') - band(before, 'low')).toBe(2);
    expect(o.risk.reasons.map((r: { key: string }) => r.key)).toEqual(
      expect.arrayContaining(['impossible_travel', 'new_country', 'new_device']),
    );
    expect(o.countries).toEqual([{ key: 'PT', count: 4 }]);
    // The deny is suspicious; the allows are not.
    expect(
      o.suspicious
        .filter((e: { type: string; ip: string }) => e.type === 'risk.decision' && e.ip === '198.51.100.77')
        .map((e: { detail: { band: string } }) => e.detail.band),
    ).toEqual(['high']);
    const detail = (await admin.get(`/api/v1/admin/users/${aliceUser.id}`)).body;
    expect(detail.risk_decisions[0].reasons).toEqual(['new_country', 'impossible_travel']);
    expect(detail.risk_decisions.length).toBeGreaterThanOrEqual(4);
  });

  it('searches users and shows one with factors, sessions, events and a behaviour baseline', async () => {
    const found = await admin.get('/api/v1/admin/users?q=LIDD');
    expect(found.body.users.map((u: { username: string }) => u.username)).toEqual(['alice']);
    expect((await admin.get('/api/v1/admin/users?q=%25')).body.users).toEqual([]);
    expect((await admin.get('/api/v1/admin/users')).body.users.map((u: { username: string }) => u.username)).toEqual([
      'alice',
      'bob',
      'root',
    ]);

    const d = (await admin.get(`/api/v1/admin/users/${aliceUser.id}`)).body;
    expect(d.user.username).toBe('alice');
    expect(d.factors.totp).not.toBeNull();
    expect(d.factors.recovery_codes_left).toBe(10);
    expect(d.trusted_devices).toEqual([]); // nobody ticked "remember this device"
    expect(d.factors.factor_failures).toBe(1); // the mistyped code
    expect(d.sessions).toHaveLength(3);
    expect(d.baseline.sign_ins).toBe(2);
    expect(d.baseline.networks.map((n: { key: string }) => n.key).sort()).toEqual(['192.0.2.0/24', '203.0.113.0/24']);
    expect(d.baseline.devices.map((n: { key: string }) => n.key).sort()).toEqual(['Mobile Safari / iOS', 'Safari / Mac OS']);
    const hour = new Date(h.clock.now()).getUTCHours();
    expect(d.baseline.heat_map.flat().reduce((a: number, b: number) => a + b, 0)).toBe(2);
    expect(d.baseline.heat_map.some((row: number[]) => row[hour]! > 0 || row[(hour + 23) % 24]! > 0)).toBe(true);
    expectJsonError(await admin.get('/api/v1/admin/users/usr_nonexistent'), 404, 'not_found');
  });

  it('filters events by type, user, IP, outcome and time, pages them by cursor, and exports them', async () => {
    const failures = (await admin.get('/api/v1/admin/events?type=login.*&outcome=failure&limit=500')).body.events;
    expect(failures).toHaveLength(4);
    expect(failures.every((e: { type: string; outcome: string }) => e.type.startsWith('login.') && e.outcome === 'failure')).toBe(true);
    const bobs = (await admin.get('/api/v1/admin/events?user=bob&limit=500')).body.events;
    expect(bobs.length).toBeGreaterThan(0);
    expect(bobs.every((e: { username: string }) => e.username === 'bob')).toBe(true);
    const fromIp = (await admin.get('/api/v1/admin/events?ip=192.0.2.200')).body.events;
    expect(fromIp.map((e: { type: string; reason: string }) => `${e.type}:${e.reason}`)).toEqual(['login.password:unknown_user']);
    const future = new Date(h.clock.now() + 60 * MINUTE).toISOString();
    expect((await admin.get(`/api/v1/admin/events?since=${future}`)).body.events).toEqual([]);
    expect((await admin.get(`/api/v1/admin/events?until=2000-01-01`)).body.events).toEqual([]);
    expect((await admin.get('/api/v1/admin/events?since=1h&limit=500')).body.events.length).toBeGreaterThan(10);

    // Cursor pagination: pages of 7 cover everything once, newest first.
    const all = (await admin.get('/api/v1/admin/events?limit=500')).body.events.map((e: { id: number }) => e.id);
    const paged: number[] = [];
    let cursor: number | null | undefined;
    do {
      const page = (await admin.get(`/api/v1/admin/events?limit=7${cursor ? `&before=${cursor}` : ''}`)).body;
      paged.push(...page.events.map((e: { id: number }) => e.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(paged).toEqual(all);
    expect([...all].sort((a, b) => b - a)).toEqual(all);

    // Read as text: JSON Lines is not one JSON document.
    const jsonl = await h.app.inject({
      method: 'GET',
      url: '/api/v1/admin/events/export?format=jsonl',
      // From the admin's own address and browser: another one would be a replayed cookie (continuous evaluation).
      remoteAddress: '198.51.100.10',
      headers: {
        cookie: `${admin.names.session}=${admin.sessionToken}`,
        'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
      },
    });
    expect(jsonl.statusCode).toBe(200);
    expect(jsonl.headers['content-type']).toContain('application/x-ndjson');
    expect(jsonl.headers['content-disposition']).toMatch(/^attachment; filename="twofold-events-.*\.jsonl"$/);
    const lines = jsonl.body
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((e) => e.id)).toEqual(all);

    const csv = await admin.get('/api/v1/admin/events/export?format=csv&type=login.*&outcome=failure');
    expect(csv.headers['content-type']).toContain('text/csv');
    const rows = parseCsv(csv.body as string);
    expect(rows[0]).toEqual(['id', 'at', 'type', 'outcome', 'user_id', 'username', 'session_id', 'ip', 'user_agent', 'reason', 'detail']);
    expect(rows.slice(1).map((r) => Number(r[0]))).toEqual(failures.map((e: { id: number }) => e.id));
    expect(rows.slice(1).every((r) => r[3] === 'failure' && r[2]!.startsWith('login.'))).toBe(true);

    expectJsonError(await admin.get('/api/v1/admin/events?since=yesterday'), 400, 'bad_request');
    expectJsonError(await admin.get('/api/v1/admin/events?limit=0'), 400, 'bad_request');
    expectJsonError(await admin.get('/api/v1/admin/events?outcome=maybe'), 400, 'bad_request');
    expectJsonError(await admin.get('/api/v1/admin/events/export?format=xml'), 400, 'bad_request');
  });

  it('lists sessions filtered by user and address, and revokes one (it stops working at once) or all of a user', async () => {
    const mine = (await admin.get('/api/v1/admin/sessions?user=alice')).body.sessions;
    expect(mine).toHaveLength(3);
    const byPrefix = (await admin.get(`/api/v1/admin/sessions?ip=${encodeURIComponent('203.0.113.*')}`)).body.sessions;
    expect(byPrefix.map((s: { ip: string }) => s.ip).sort()).toEqual(['203.0.113.7', '203.0.113.8']);
    expect((await admin.get('/api/v1/admin/sessions?user=nobody')).body.sessions).toEqual([]);

    const phone = aliceDevices[2]!;
    expect((await phone.session()).status).toBe(200);
    const phoneSession = mine.find((s: { ip: string }) => s.ip === '192.0.2.44');
    expect((await admin.delete(`/api/v1/admin/sessions/${phoneSession.id}`)).status).toBe(204);
    expectJsonError(await phone.session(), 401, 'unauthenticated');
    expect((await aliceDevices[0]!.session()).status).toBe(200);
    expectJsonError(await admin.delete('/api/v1/admin/sessions/ses_nonexistent'), 404, 'not_found');

    const all = await admin.delete(`/api/v1/admin/users/${aliceUser.id}/sessions`);
    expect(all.body).toEqual({ revoked: 2 });
    expectJsonError(await aliceDevices[0]!.session(), 401, 'unauthenticated');
    expectJsonError(await aliceDevices[1]!.session(), 401, 'unauthenticated');
    const revokedEvents = (await admin.get(`/api/v1/admin/events?type=session.revoked&user=alice`)).body.events;
    expect(revokedEvents.filter((e: { reason: string }) => e.reason === 'revoked_by_admin')).toHaveLength(2);
  });

  it('shows the policy in force with secrets masked', async () => {
    const res = await admin.get('/api/v1/admin/policy');
    expect(res.status).toBe(200);
    expect(res.body.config.session.idleTimeoutMs).toBe(30 * MINUTE);
    expect(res.body.config.metrics.token).toBe(MASK);
    expect(res.body.console.admin_freshness_seconds).toBe(600);
    expect(JSON.stringify(res.body)).not.toContain(METRICS_TOKEN);
    const page = await admin.get('/admin/policy');
    expect(page.body).toContain('Session lifetimes');
    expect(page.body).toContain('30m');
    expect(page.body).not.toContain(METRICS_TOKEN);
  });

  it('documents every admin route in /openapi.json', async () => {
    const doc = (await admin.get('/openapi.json')).body;
    for (const path of [
      '/api/v1/admin/overview',
      '/api/v1/admin/users',
      '/api/v1/admin/users/{id}',
      '/api/v1/admin/users/{id}/sessions',
      '/api/v1/admin/sessions',
      '/api/v1/admin/sessions/{id}',
      '/api/v1/admin/events',
      '/api/v1/admin/events/export',
      '/api/v1/admin/policy',
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
  });
});

describe('admin console before the risk engine has decided anything', () => {
  it('says there is no risk data yet', async () => {
    const h = await startHarness();
    try {
      const root = await addUser(h.deps, { username: 'root', password: STRONG_PASSWORD, isAdmin: true }, null);
      // A session made by the use case directly (as the CLI tests do): no password step, so no risk verdict yet.
      const now = h.clock.now();
      const { token } = await issueSession(
        h.deps,
        root,
        'full',
        [
          { method: 'pwd', at: now },
          { method: 'otp', at: now },
        ],
        { ip: '127.0.0.1', userAgent: 'test' },
      );
      const admin = new ApiClient(h);
      const overview = await admin.get('/api/v1/admin/overview', { bearer: token });
      expect(overview.status).toBe(200);
      expect(overview.body.risk).toBeNull();
      const page = await admin.get('/admin', { cookies: { [admin.names.session]: token } });
      expect(page.status).toBe(200);
      expect(page.body).toContain('No risk data yet');
    } finally {
      await h.close();
    }
  });
});
