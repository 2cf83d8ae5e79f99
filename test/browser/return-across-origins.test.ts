import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page } from 'playwright-core';
import { chromiumMissing, launchChromium } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { ApiClient, enrollTotp, STRONG_PASSWORD, totpAt, type EnrolledUser } from '../http/client.js';
import { freePort, startHarness, type Harness } from '../support/harness.js';

/**
 * Forward-auth in a real browser: the portal on one origin sends the user back to an app on
 * another after the password and code, and after a step-up. Chromium holds the redirect that ends
 * a form post to the page's CSP form-action, so this proves the portal's CSP allows its own
 * redirect domains (and the 303 alone, tested without a browser, would not).
 */

const missing = chromiumMissing('the cross-origin browser tests');

const SCREENS = fileURLToPath(new URL('../../artifacts/screens/', import.meta.url));

describe.skipIf(missing)('returning to an app on another origin, in a real browser', () => {
  let h: Harness;
  let app: Server;
  let appOrigin = '';
  let browser: Browser;
  let page: Page;
  let carol: EnrolledUser;

  beforeAll(async () => {
    mkdirSync(SCREENS, { recursive: true });
    const appPort = await freePort();
    appOrigin = `http://127.0.0.1:${appPort}`;
    app = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>The app</title><h1>The app</h1><p id="path">${(req.url ?? '').replace(/[<>&"]/g, '')}</p>`);
    });
    await new Promise<void>((resolve) => app.listen(appPort, '127.0.0.1', resolve));
    h = await startHarness({ listen: true, realClock: true, overrides: { redirect_domains: [`127.0.0.1:${appPort}`] } });
    await addUser(h.deps, { username: 'carol', password: STRONG_PASSWORD, isAdmin: false }, null);
    carol = await enrollTotp(h, new ApiClient(h), 'carol', STRONG_PASSWORD);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1100, height: 800 } })).newPage();
    page.setDefaultTimeout(10_000);
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await new Promise((resolve) => app?.close(resolve));
  });

  it('after the password and an authenticator code', async () => {
    await page.goto(`${h.baseUrl}/login?return_to=${encodeURIComponent(`${appOrigin}/reports?year=2026`)}`);
    await page.getByLabel('Username').fill('carol');
    await page.getByLabel('Password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/login/second-factor?return_to=*');
    // Enrollment spent the current step; the next one is within the accepted window.
    await page.getByLabel('Code from your authenticator app').fill(totpAt(carol.secret, Date.now() + 30_000));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(`${appOrigin}/reports?year=2026`);
    expect(await page.locator('#path').textContent()).toBe('/reports?year=2026');
  });

  it('after a step-up, with a recovery code', async () => {
    await page.goto(`${h.baseUrl}/step-up?method=recovery_code&return_to=${encodeURIComponent(`${appOrigin}/admin`)}`);
    expect(await page.locator('h1').textContent()).toBe('Confirm it is you');
    await page.screenshot({ path: `${SCREENS}10-step-up-recovery-code.png`, fullPage: true });
    await page.getByLabel('Recovery code').fill(carol.recoveryCodes[0]!);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForURL(`${appOrigin}/admin`);
    expect(await page.locator('h1').textContent()).toBe('The app');
  });

  it('never to an origin outside the redirect domains', async () => {
    await page.goto(`${h.baseUrl}/step-up?return_to=${encodeURIComponent('http://127.0.0.2:9/evil')}`);
    expect(await page.locator('input[name="return_to"]').count()).toBe(0);
  });
});
