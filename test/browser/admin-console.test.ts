import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { chromiumMissing, launchChromium } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { DEFAULT_TOTP_PARAMS, decodeBase32, generateTotp } from '../../src/core/factors/totp.js';
import type { User } from '../../src/store/store.js';
import { ApiClient, OTHER_STRONG_PASSWORD, STRONG_PASSWORD, type EnrolledUser } from '../http/client.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * The admin console in a real browser (Debian's Chromium through playwright-core) against a
 * listening twofold on the real clock. The data is made through the product's own API by several
 * users on several devices and networks: sign-ins, wrong passwords and codes, live sessions.
 */

const missing = chromiumMissing('the admin console browser test');

const SCREENS = fileURLToPath(new URL('../../artifacts/screens/', import.meta.url));
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const SAFARI_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';
const IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1';
const CHROME_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

const step = (): number => Math.floor(Date.now() / 30_000);
const codeAt = (secret: string, s: number): string => generateTotp(decodeBase32(secret), s * 30_000, DEFAULT_TOTP_PARAMS);

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
    else if (ch === '\r' && text[i + 1] === '\n') (row.push(cell), rows.push(row), (row = []), (cell = ''), i++);
    else cell += ch;
  }
  return rows;
}

describe.skipIf(missing)('admin console in a real browser', () => {
  let h: Harness;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let alice: User;
  let aliceLaptop: ApiClient;
  const browserErrors: string[] = [];
  const target = () => ({ app: h.app, deps: h.deps, origin: h.origin, clock: { now: () => Date.now(), advance: () => undefined } });

  /** Enrolls TOTP over the API at the current step; returns the user's secret and recovery codes. */
  async function enroll(client: ApiClient, username: string, password: string): Promise<EnrolledUser> {
    expect((await client.login(username, password)).body.state).toBe('enrollment_required');
    const secret: string = (await client.post('/api/v1/factors/totp')).body.secret;
    const confirmed = await client.post('/api/v1/factors/totp/confirm', { code: codeAt(secret, step()) });
    expect(confirmed.status).toBe(200);
    return { username, password, secret, recoveryCodes: confirmed.body.recovery_codes };
  }

  async function signIn(client: ApiClient, user: EnrolledUser, method: 'totp' | 'recovery_code'): Promise<void> {
    expect((await client.login(user.username, user.password)).body.state).toBe('second_factor_required');
    const code = method === 'totp' ? codeAt(user.secret, step() + 1) : user.recoveryCodes.pop()!;
    expect((await client.secondFactor(method, code)).status).toBe(200);
  }

  const screenshot = (name: string) => page.screenshot({ path: `${SCREENS}${name}.png`, fullPage: true });

  /** Waits for a chart drawn by admin.js and returns what it drew: the total of its data and its painted pixels. */
  async function chart(id: string): Promise<{ total: number; painted: number; datasets: number }> {
    await page.locator(`#${id} canvas[data-rendered="true"]`).waitFor();
    // Runs in the page (a string, as the test code is not compiled against the DOM's types).
    return page.evaluate<{ total: number; painted: number; datasets: number }>(`(() => {
      const canvas = document.querySelector('#${id} canvas');
      const datasets = window.Chart.getChart(canvas).data.datasets;
      const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) painted++;
      return { total: datasets.flatMap((d) => d.data).reduce((a, b) => a + b, 0), painted, datasets: datasets.length };
    })()`);
  }

  beforeAll(async () => {
    mkdirSync(SCREENS, { recursive: true });
    h = await startHarness({ listen: true, realClock: true });
    await addUser(h.deps, { username: 'root', password: STRONG_PASSWORD, isAdmin: true, displayName: 'Site Administrator' }, null);
    alice = await addUser(h.deps, { username: 'alice', password: STRONG_PASSWORD, isAdmin: false, displayName: 'Alice Liddell' }, null);
    await addUser(h.deps, { username: 'bob', password: OTHER_STRONG_PASSWORD, isAdmin: false, displayName: 'Bob Builder' }, null);
    await addUser(h.deps, { username: 'carol', password: OTHER_STRONG_PASSWORD, isAdmin: false }, null);

    // The administrator's authenticator, enrolled over the API; the browser signs in with it below.
    const rootUser = await enroll(new ApiClient(target(), { ip: '198.51.100.10', userAgent: FIREFOX_LINUX }), 'root', STRONG_PASSWORD);
    (globalThis as { rootSecret?: string }).rootSecret = rootUser.secret;

    // alice: her laptop, her Mac at work, her phone on a mobile network.
    aliceLaptop = new ApiClient(target(), { ip: '203.0.113.7', userAgent: FIREFOX_LINUX });
    const aliceFactors = await enroll(aliceLaptop, 'alice', STRONG_PASSWORD);
    await signIn(new ApiClient(target(), { ip: '203.0.113.8', userAgent: SAFARI_MAC }), aliceFactors, 'totp');
    await signIn(new ApiClient(target(), { ip: '192.0.2.44', userAgent: IPHONE }), aliceFactors, 'recovery_code');
    // bob: enrolls, mistypes his password twice, signs in with a recovery code.
    const bobFactors = await enroll(
      new ApiClient(target(), { ip: '198.51.100.20', userAgent: CHROME_WINDOWS }),
      'bob',
      OTHER_STRONG_PASSWORD,
    );
    const bobPhone = new ApiClient(target(), { ip: '198.51.100.21', userAgent: IPHONE });
    for (const guess of ['bobs old password', 'bobs older password']) expect((await bobPhone.login('bob', guess)).status).toBe(401);
    await signIn(bobPhone, bobFactors, 'recovery_code');
    // Someone tries carol's account and accounts that do not exist.
    const stranger = new ApiClient(target(), { ip: '192.0.2.250', userAgent: 'python-requests/2.32' });
    for (const name of ['carol', 'admin', 'administrator']) expect((await stranger.login(name, 'Summer2026!')).status).toBe(401);

    // Decisions of an engine with enough history to enforce (this one has none yet, so it only asks
    // for the second factor), written the way its sign-in integration writes them.
    for (const [score, band, decision, reasons, ip] of [
      [0.04, 'low', 'allow', [], '203.0.113.7'],
      [0.09, 'low', 'allow', [], '203.0.113.8'],
      [0.47, 'medium', 'step_up', ['new_device'], '192.0.2.44'],
      [0.93, 'high', 'deny', ['new_country', 'impossible_travel'], '192.0.2.250'],
    ] as const) {
      await h.deps.store.events.append({
        at: Date.now(),
        type: 'risk.decision',
        outcome: decision === 'deny' ? 'failure' : 'success',
        userId: alice.id,
        sessionId: null,
        ip,
        userAgent: FIREFOX_LINUX,
        reason: null,
        detail: { score, band, decision, reasons: [...reasons], country: ip.startsWith('192.0.2.250') ? 'KP' : 'PT' },
      });
    }

    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) browserErrors.push(message.text());
    });
    page.on('pageerror', (err) => browserErrors.push(err.message));
    page.on('response', (response) => {
      if (response.request().resourceType() !== 'document' && response.status() >= 400)
        browserErrors.push(`${response.status()} ${response.url()}`);
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('signs the administrator in with a second factor and opens the overview with charts drawn from the data', async () => {
    await page.goto(`${h.baseUrl}/admin`);
    await page.waitForURL('**/login?return_to=%2Fadmin');
    await page.getByLabel('Username').fill('root');
    await page.getByLabel('Password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/login/second-factor**');
    const secret = (globalThis as { rootSecret?: string }).rootSecret!;
    await page.getByLabel('Code from your authenticator app').fill(codeAt(secret, step() + 1));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${h.baseUrl}/admin`);
    expect(await page.locator('h1').textContent()).toBe('Overview');

    const signIns = await chart('chart-sign-ins');
    expect(signIns.datasets).toBe(4);
    // What the seeding did through the API: 4 sign-ins (alice x2, bob, root in this browser); 7 right
    // passwords answered with "second factor" (alice x2, bob, root) or "set one up" (3 enrollments);
    // 5 failures (bob's two wrong passwords, the stranger's three tries).
    expect(signIns.total).toBe(4 + 7 + 5);
    expect(signIns.painted).toBeGreaterThan(100);
    const risk = await chart('chart-risk');
    // The engine's own verdicts on every accepted password, plus the four decisions written above.
    expect(risk.total).toBe((await h.deps.store.admin.searchEvents({ types: ['risk.decision'], limit: 1000 })).length);
    expect(risk.total).toBeGreaterThan(4);
    expect(risk.painted).toBeGreaterThan(100);
    const networks = await chart('chart-networks');
    expect(networks.total).toBeGreaterThan(0);
    expect(await page.locator('.stat').first().textContent()).toMatch(/\d+\s*Active sessions/);
    expect(await page.locator('#countries-title + * , #countries-title ~ table').first().textContent()).toContain('PT');
    const suspicious = await page.locator('#suspicious-title ~ .table-wrap tbody tr').count();
    // 5 wrong passwords + the written deny (and any real verdict the engine rated high).
    expect(suspicious).toBeGreaterThanOrEqual(6);
    await screenshot('admin-01-overview');
  });

  it('finds a user and shows their factors, sessions, baseline with the hours heat map, and risk decisions', async () => {
    await page.getByRole('link', { name: 'Users', exact: true }).click();
    await page.waitForURL('**/admin/users');
    await page.getByLabel('Username or name contains').fill('liddell');
    await page.keyboard.press('Enter');
    await page.waitForURL('**/admin/users?q=liddell');
    expect(await page.locator('.users-table tbody tr').count()).toBe(1);
    await screenshot('admin-02-users');

    await page.getByRole('link', { name: 'alice' }).click();
    await page.waitForURL(`**/admin/users/${alice.id}`);
    expect(await page.locator('h1').textContent()).toBe('alice');
    expect(await page.locator('.sessions-table tbody tr').count()).toBe(3);
    expect(await page.locator('#heat-map td:not(.heat-0)').count()).toBeGreaterThan(0);
    const heat = await page
      .locator('#heat-map td')
      .evaluateAll((cells) => cells.map((c) => Number(c.textContent || 0)).reduce((a, b) => a + b, 0));
    expect(heat).toBe(2);
    const baseline = await page.locator('#baseline-title').locator('..').textContent();
    expect(baseline).toContain('203.0.113.0/24');
    expect(baseline).toContain('Mobile Safari / iOS');
    expect(await page.locator('#risk-title').locator('..').textContent()).toContain('impossible_travel');
    await screenshot('admin-03-user-detail');
  });

  it('filters sessions and revokes one, which then stops working', async () => {
    expect((await aliceLaptop.session()).status).toBe(200);
    await page.goto(`${h.baseUrl}/admin/sessions`);
    await page.getByLabel('User').fill('alice');
    await page.getByLabel('IP address').fill('203.0.113.7');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL((url) => url.searchParams.get('user') === 'alice' && url.searchParams.get('ip') === '203.0.113.7');
    const rows = page.locator('.sessions-table tbody tr');
    expect(await rows.count()).toBe(1);
    // The sign-in's origin: documentation addresses have no country or network; the risk engine judged it.
    expect((await rows.first().locator('.cell-country').textContent())!.trim()).toBe('—');
    const band = (await rows.first().locator('.cell-risk').textContent())!.trim();
    expect(['low', 'medium', 'high', 'very high']).toContain(band);
    // Filtering by that band (the Risk select) keeps the session.
    await page.getByLabel('Risk').selectOption(band.replace(' ', '_'));
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL((url) => url.searchParams.get('risk') === band.replace(' ', '_'));
    expect(await rows.count()).toBe(1);
    await screenshot('admin-04-sessions');
    await rows
      .first()
      .getByRole('button', { name: /Revoke alice's session/ })
      .click();
    await page.waitForURL((url) => url.searchParams.get('done') === 'revoked' && url.searchParams.get('user') === 'alice');
    expect(await page.getByRole('status').textContent()).toContain('revoked');
    expect(await page.locator('.sessions-table tbody tr').count()).toBe(0);
    const after = await aliceLaptop.session();
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthenticated');
  });

  it('filters events with the keyboard and exports them as CSV and JSON Lines', async () => {
    await page.goto(`${h.baseUrl}/admin/events`);
    await page.getByLabel('Type').focus();
    await page.keyboard.type('login.password');
    await page.getByLabel('Outcome').selectOption('failure');
    await page.getByLabel('Since').focus();
    await page.keyboard.type('1h');
    await page.keyboard.press('Enter');
    await page.waitForURL('**/admin/events?type=login.password&**outcome=failure**');
    const rows = page.locator('.events-table tbody tr');
    expect(await rows.count()).toBe(5);
    for (const text of await rows.allTextContents()) {
      expect(text).toContain('login.password');
      expect(text).toContain('failure');
    }
    await screenshot('admin-05-events');

    const csvHref = await page.locator('#export-csv').getAttribute('href');
    const csv = await page.request.get(`${h.baseUrl}${csvHref}`);
    expect(csv.status()).toBe(200);
    expect(csv.headers()['content-type']).toContain('text/csv');
    const table = parseCsv(await csv.text());
    expect(table[0]).toEqual(['id', 'at', 'type', 'outcome', 'user_id', 'username', 'session_id', 'ip', 'user_agent', 'reason', 'detail']);
    expect(table.slice(1)).toHaveLength(5);
    expect(table.slice(1).every((r) => r[2] === 'login.password' && r[3] === 'failure')).toBe(true);
    expect(
      table
        .slice(1)
        .map((r) => r[9])
        .sort(),
    ).toEqual(['unknown_user', 'unknown_user', 'wrong_password', 'wrong_password', 'wrong_password']);

    const jsonlHref = await page.locator('#export-jsonl').getAttribute('href');
    const jsonl = await page.request.get(`${h.baseUrl}${jsonlHref}`);
    const events = (await jsonl.text())
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(events.map((e) => e.id)).toEqual(table.slice(1).map((r) => Number(r[0])));
    expect(new Set(events.map((e) => e.username))).toEqual(new Set(['bob', 'carol', null]));
  });

  it('shows the policy in force, read-only', async () => {
    await page.getByRole('link', { name: 'Policy' }).click();
    await page.waitForURL('**/admin/policy');
    expect(await page.locator('section[aria-labelledby="policy-session"]').textContent()).toContain('30m');
    expect(await page.locator('form').count()).toBe(1); // only the sign-out button
    await screenshot('admin-06-policy');
  });

  it('lets a keyboard user reach every section from the navigation', async () => {
    await page.goto(`${h.baseUrl}/admin`);
    const reached: string[] = [];
    for (let i = 0; i < 12 && reached.length < 5; i++) {
      await page.keyboard.press('Tab');
      const focused = await page.evaluate<string | null>(
        "document.activeElement?.closest('.admin-nav') ? document.activeElement.textContent : null",
      );
      if (focused) reached.push(focused.trim());
    }
    expect(reached).toEqual(['Overview', 'Users', 'Sessions', 'Events', 'Policy']);
  });

  it('produced no script error, CSP violation or failed asset', () => {
    expect(browserErrors).toEqual([]);
  });
});
