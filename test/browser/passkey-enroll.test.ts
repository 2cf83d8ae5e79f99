import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page } from 'playwright-core';
import { chromiumMissing, launchChromium } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { STRONG_PASSWORD } from '../http/client.js';
import { freePort, startHarness, type Harness } from '../support/harness.js';

/**
 * A passkey as the second factor a new user enrolls, in a real browser (Debian's Chromium with a
 * CDP virtual authenticator): /enroll registers it, the recovery codes are shown once, and the next
 * sign-in's page offers the passkey and no authenticator-app form, also after a wrong code.
 */

const missing = chromiumMissing('the passkey enrollment browser test');

const SCREENS = fileURLToPath(new URL('../../artifacts/screens/', import.meta.url));

describe.skipIf(missing)('enrolling a passkey as the second factor (virtual authenticator)', () => {
  let h: Harness;
  let base = '';
  let browser: Browser;
  let page: Page;
  const browserErrors: string[] = [];
  const screenshot = (name: string) => page.screenshot({ path: `${SCREENS}${name}.png`, fullPage: true });
  const sessionInfo = () => page.evaluate(async () => (await fetch('/api/v1/session')).json());
  let codes: string[] = [];

  beforeAll(async () => {
    mkdirSync(SCREENS, { recursive: true });
    const port = await freePort();
    base = `http://localhost:${port}`;
    h = await startHarness({ realClock: true, overrides: { public_url: base } });
    await h.app.listen({ host: '127.0.0.1', port });
    await addUser(h.deps, { username: 'bob', password: STRONG_PASSWORD, isAdmin: false }, null);
    browser = await launchChromium('--host-resolver-rules=MAP localhost 127.0.0.1');
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) browserErrors.push(message.text());
    });
    page.on('pageerror', (err) => browserErrors.push(err.message));
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'usb',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  const signInWithPassword = async () => {
    await page.goto(`${base}/login`);
    await page.getByLabel('Username').fill('bob');
    await page.getByLabel('Password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
  };

  it('registers a passkey on /enroll instead of an authenticator app and shows the recovery codes once', async () => {
    await signInWithPassword();
    await page.waitForURL('**/enroll');
    await page.getByLabel('Name for the passkey').fill('Virtual key');
    await screenshot('passkey-enroll-01-choice');
    await page.getByRole('button', { name: 'Register a passkey' }).click();
    await expect.poll(() => page.locator('[data-passkey-codes] ol li').count()).toBe(10);
    expect(await page.locator('[data-passkey-codes]').isVisible()).toBe(true);
    expect(await page.getByText('Scan this QR code').isVisible()).toBe(false);
    codes = await page.locator('[data-passkey-codes] ol li').allTextContents();
    await screenshot('passkey-enroll-02-codes');
    expect(await sessionInfo()).toMatchObject({ kind: 'full', aal: 2, amr: ['pwd', 'hwk'] });
    await page.getByRole('link', { name: 'I saved them — continue' }).click();
    await page.waitForURL('**/account');
    expect(await page.locator('table.passkeys input[name="name"]').inputValue()).toBe('Virtual key');
  });

  it('the passkey-only second-factor page has no authenticator-app form, and keeps the passkey after a wrong code', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/login?notice=signed_out');
    await signInWithPassword();
    await page.waitForURL('**/login/second-factor');
    expect(await page.getByRole('button', { name: 'Use a passkey' }).isVisible()).toBe(true);
    expect(await page.getByLabel('Code from your authenticator app').count()).toBe(0);
    await screenshot('passkey-enroll-03-second-factor');

    await page.getByRole('link', { name: 'Use a recovery code instead' }).click();
    await page.getByLabel('Recovery code').fill('zzzz-zzzz-zzzz');
    await page.getByRole('button', { name: 'Verify' }).click();
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'not valid' }).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Use a passkey' }).isVisible()).toBe(true);
    await screenshot('passkey-enroll-04-wrong-code');

    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.waitForURL('**/account');
    expect(await sessionInfo()).toMatchObject({ aal: 2, amr: ['pwd', 'hwk'] });
    expect(codes).toHaveLength(10);
    expect(browserErrors).toEqual([]);
  });
});
