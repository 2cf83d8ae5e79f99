import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import { chromiumMissing, launchChromium } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { ApiClient, enrollTotp, STRONG_PASSWORD } from '../http/client.js';
import { freePort, startHarness, type Harness } from '../support/harness.js';

/**
 * Passkeys in a real browser: Debian's Chromium (headless, playwright-core) with a CDP virtual
 * authenticator (CTAP2, resident keys, user verification) against a listening twofold. WebAuthn needs
 * a secure context and a domain RP ID, so twofold's public_url is http://localhost:PORT (a secure
 * context; 127.0.0.1 would be too, but an IP address can never be an RP ID).
 */

const missing = chromiumMissing('the passkey browser test');

const SCREENS = fileURLToPath(new URL('../../artifacts/screens/', import.meta.url));

describe.skipIf(missing)('passkeys in a real browser (virtual authenticator)', () => {
  let h: Harness;
  let base = '';
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let cdp: CDPSession;
  let authenticatorId = '';
  const browserErrors: string[] = [];

  const screenshot = (name: string) => page.screenshot({ path: `${SCREENS}${name}.png`, fullPage: true });
  const sessionInfo = () => page.evaluate(async () => (await fetch('/api/v1/session')).json());

  beforeAll(async () => {
    mkdirSync(SCREENS, { recursive: true });
    const port = await freePort();
    base = `http://localhost:${port}`;
    h = await startHarness({ realClock: true, overrides: { public_url: base } });
    await h.app.listen({ host: '127.0.0.1', port });

    // alice already has an authenticator app; her two-factor session is handed to the browser.
    await addUser(h.deps, { username: 'alice', password: STRONG_PASSWORD, isAdmin: false }, null);
    const api = new ApiClient({ app: h.app, deps: h.deps, origin: base });
    await enrollTotp(
      { app: h.app, deps: h.deps, origin: base, clock: { now: () => Date.now(), advance: () => undefined } },
      api,
      'alice',
      STRONG_PASSWORD,
    );

    browser = await launchChromium('--host-resolver-rules=MAP localhost 127.0.0.1');
    // The browser the API client signed in as: continuous evaluation revokes a session cookie replayed from another one.
    context = await browser.newContext({ viewport: { width: 1100, height: 800 }, userAgent: 'vitest-api-client/1.0' });
    await context.addCookies([...api.jar].map(([name, value]) => ({ name, value, url: base, httpOnly: true, sameSite: 'Lax' as const })));
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) browserErrors.push(message.text());
    });
    page.on('pageerror', (err) => browserErrors.push(err.message));

    cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable', { enableUI: false });
    const added = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'usb',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    authenticatorId = added.authenticatorId;
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('adds a passkey on the account page', async () => {
    await page.goto(`${base}/account`);
    expect(await page.evaluate(() => (globalThis as { isSecureContext?: boolean }).isSecureContext)).toBe(true);
    await page.getByLabel('Name for the new passkey').fill('Virtual key');
    await screenshot('passkey-01-account-before');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.waitForURL('**/account?done=passkey_added');
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Your passkey was added');
    expect(await page.locator('table.passkeys input[name="name"]').inputValue()).toBe('Virtual key');
    await screenshot('passkey-02-account-added');

    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    const user = (await h.deps.store.users.findByUsername('alice'))!;
    const [stored] = await h.deps.store.webauthn.listCredentials(user.id);
    expect(stored).toMatchObject({
      id: credentials[0]!.credentialId.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_'),
      name: 'Virtual key',
    });
  });

  it('signs out, then signs in with password + passkey', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/login?notice=signed_out');
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(STRONG_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/login/second-factor');
    await screenshot('passkey-03-second-factor');
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.waitForURL('**/account');
    const session = await sessionInfo();
    expect(session).toMatchObject({ aal: 2, amr: ['pwd', 'hwk'] });
    await screenshot('passkey-04-signed-in');
  });

  it('steps up with the passkey', async () => {
    const before = (await sessionInfo()) as { id: string };
    await page.goto(`${base}/step-up?return_to=${encodeURIComponent('/account')}`);
    await screenshot('passkey-05-step-up');
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.waitForURL('**/account');
    const after = (await sessionInfo()) as { id: string; factors: Array<{ method: string; at: string }> };
    // A step-up replaces the session and records the fresh proof.
    expect(after.id).not.toBe(before.id);
    const hwk = after.factors.find((f) => f.method === 'hwk');
    expect(Date.now() - Date.parse(hwk!.at)).toBeLessThan(15_000);
    const user = (await h.deps.store.users.findByUsername('alice'))!;
    const [stored] = await h.deps.store.webauthn.listCredentials(user.id);
    expect(stored!.lastUsedAt).not.toBeNull();
    await screenshot('passkey-06-after-step-up');
  });

  it('renames and removes the passkey from the account page', async () => {
    await page.locator('table.passkeys input[name="name"]').fill('Renamed key');
    await page.getByRole('button', { name: 'Rename' }).click();
    await page.waitForURL('**/account?done=passkey_renamed');
    expect(await page.locator('table.passkeys input[name="name"]').inputValue()).toBe('Renamed key');
    await page.getByRole('button', { name: 'Remove the passkey Renamed key' }).click();
    await page.waitForURL('**/account?done=passkey_removed');
    expect(await page.getByText('No passkey is set up.').count()).toBe(1);
    await screenshot('passkey-07-removed');
    expect(browserErrors).toEqual([]);
  });
});
