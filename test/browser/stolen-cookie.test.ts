import { type Browser } from 'playwright-core';
import { chromiumMissing, launchChromium } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { ApiClient, enrollTotp, STRONG_PASSWORD, totpAt, type EnrolledUser } from '../http/client.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * Continuous evaluation against cookie theft, in headless Chromium: a user signs in through the
 * pages in one browser profile; the session cookie is copied into a second profile (another user
 * agent, none of the first profile's cookies, so no device cookie) and replayed there. The session
 * is revoked at that first replay, for the thief and for the owner, and the event names why.
 */

const missing = chromiumMissing('the stolen-cookie browser test');

const OTHER_PROFILE_UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14.2; rv:121.0) Gecko/20100101 Firefox/121.0';

describe.skipIf(missing)('a stolen session cookie replayed from another browser profile', () => {
  let h: Harness;
  let browser: Browser;
  let alice: EnrolledUser;

  beforeAll(async () => {
    h = await startHarness({ listen: true });
    await addUser(h.deps, { username: 'alice', password: STRONG_PASSWORD, isAdmin: false }, null);
    alice = await enrollTotp(h, new ApiClient(h, { userAgent: 'enrolment' }), 'alice', STRONG_PASSWORD);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('is revoked at its first use, for the thief and the owner alike, with a session.hijack_suspected event', async () => {
    const owner = await browser.newContext();
    const page = await owner.newPage();
    page.setDefaultTimeout(10_000);
    await page.goto(`${h.baseUrl}/login`);
    await page.getByLabel('Username').fill(alice.username);
    await page.getByLabel('Password').fill(alice.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/login/second-factor**');
    h.clock.advance(30_000);
    await page.getByLabel('Code from your authenticator app').fill(totpAt(alice.secret, h.clock.now()));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/account');

    const sessionStatus = async (p: typeof page) => p.evaluate(async () => (await fetch('/api/v1/session')).status);
    expect(await sessionStatus(page)).toBe(200);
    const cookies = await owner.cookies();
    const sessionCookie = cookies.find((c) => c.name.endsWith('twofold_session'));
    expect(sessionCookie).toBeDefined();
    expect(cookies.map((c) => c.name).join(',')).toContain('twofold_device');
    const stored = await h.deps.store.sessions.listActive(h.clock.now());
    expect(stored).toHaveLength(2); // the enrolment session and this one
    expect(stored.find((s) => s.userAgent !== 'enrolment')?.deviceHash).toMatch(/./);

    // Another profile: its own user agent and cookie store; only the stolen session cookie is copied.
    const thief = await browser.newContext({ userAgent: OTHER_PROFILE_UA });
    await thief.addCookies([sessionCookie!]);
    const thiefPage = await thief.newPage();
    const replay = await thiefPage.goto(`${h.baseUrl}/api/v1/session`);
    expect(replay!.status()).toBe(401);
    const body = await replay!.json();
    expect(body.error).toMatchObject({ code: 'unauthenticated', reason: 'hijack_suspected' });
    expect(body.error.reasons).toEqual(expect.arrayContaining(['browser_family_changed', 'os_family_changed', 'device_missing']));

    // The owner's copy is the same session: it is gone too, and the account page sends them to sign in.
    expect(await sessionStatus(page)).toBe(401);
    await page.goto(`${h.baseUrl}/account`);
    await page.waitForURL('**/login**');

    const events = await h.deps.store.events.list({ limit: 100 });
    const suspected = events.find((e) => e.type === 'session.hijack_suspected');
    expect(suspected).toMatchObject({ outcome: 'failure', userAgent: OTHER_PROFILE_UA });
    expect(events.some((e) => e.type === 'session.revoked' && e.reason === 'hijack_suspected')).toBe(true);
    await owner.close();
    await thief.close();
  });
});
