import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from '../support/chromium.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSetupLinkIfNeeded } from '../../src/auth/setup.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * The pages end to end in a real browser: Debian's Chromium driven by playwright-core against a
 * listening twofold, with codes from oathtool (a real authenticator) on the real clock.
 */

const OATHTOOL = '/usr/bin/oathtool';
const missing = [CHROMIUM, OATHTOOL].filter((path) => !existsSync(path));
if (missing.length > 0) {
  const hint = `browser tests need ${missing.join(' and ')}: apt-get install chromium oathtool enables them`;
  if (process.env.CI) throw new Error(`${hint} (CI is set, so this fails instead of skipping)`);
  console.warn(`Skipping the browser tests: ${hint}.`);
}

const SCREENS = fileURLToPath(new URL('../../artifacts/screens/', import.meta.url));
const USERNAME = 'alice';
const PASSWORD = 'correct horse battery staple';
const PERIOD_S = 30;

/** The TOTP code for a given 30-second step, as an authenticator app would show it at that time. */
function totpCode(secret: string, step: number): string {
  return execFileSync(OATHTOOL, ['--totp', '-b', '-N', `@${step * PERIOD_S}`, secret], { encoding: 'utf8' }).trim();
}

const currentStep = (): number => Math.floor(Date.now() / 1000 / PERIOD_S);

describe.skipIf(missing.length > 0)('pages in a real browser', () => {
  let h: Harness;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let secret = '';
  /** twofold accepts each TOTP step once; the next code must come from a later step. */
  let lastUsedStep = 0;
  let recoveryCodes: string[] = [];
  const browserErrors: string[] = [];

  /** A code the server accepts now: the next unused step, at most one step ahead (window 1). */
  async function freshCode(): Promise<string> {
    let step = Math.max(currentStep(), lastUsedStep + 1);
    while (step > currentStep() + 1) await new Promise((resolve) => setTimeout(resolve, 500));
    lastUsedStep = step;
    return totpCode(secret, step);
  }

  const screenshot = (name: string) => page.screenshot({ path: `${SCREENS}${name}.png`, fullPage: true });
  const pathOf = (p: Page): string => new URL(p.url()).pathname;

  async function signInWithPassword(password = PASSWORD): Promise<void> {
    await page.getByLabel('Username').fill(USERNAME);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  async function signOut(): Promise<void> {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL('**/login?notice=signed_out');
  }

  beforeAll(async () => {
    mkdirSync(SCREENS, { recursive: true });
    h = await startHarness({ listen: true, realClock: true });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    page = await context.newPage();
    // Fail a step with Playwright's own message well before vitest's test timeout.
    page.setDefaultTimeout(10_000);
    // CSP violations, script errors and missing assets show up here: the pages must produce none.
    // (A refused form post answers 401 by design: Chromium logs that document as a failed load.)
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) browserErrors.push(message.text());
    });
    page.on('pageerror', (err) => browserErrors.push(err.message));
    page.on('response', (response) => {
      if (response.request().resourceType() !== 'document' && response.status() >= 400)
        browserErrors.push(`${response.status()} ${response.url()}`);
    });
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('sets up the first administrator, enrolls an authenticator and shows the recovery codes once', async () => {
    const setupLink = await issueSetupLinkIfNeeded(h.deps);
    expect(setupLink).not.toBeNull();
    await page.goto(setupLink!);
    expect(await page.title()).toContain('First-time setup');
    await screenshot('01-setup');

    await page.getByLabel('Username').fill(USERNAME);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByLabel('Confirm password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL('**/enroll');
    // A password-only session may reach nothing but the enrollment page.
    await page.goto(`${h.baseUrl}/account`);
    await page.waitForURL('**/enroll');

    const secretElement = page.locator('#totp-secret');
    secret = (await secretElement.getAttribute('data-secret')) ?? '';
    expect(secret).toMatch(/^[A-Z2-7]{16,}$/);
    expect((await secretElement.textContent())?.replace(/\s/g, '')).toBe(secret);
    expect(await page.locator('img.qr').getAttribute('src')).toMatch(/^data:image\/svg\+xml;base64,/);
    // The code field has the focus, so a keyboard user types the code straight away.
    expect(await page.locator(':focus').getAttribute('name')).toBe('code');
    await screenshot('02-enroll');

    // Enrollment proves possession with the current step's code.
    lastUsedStep = currentStep();
    await page.getByLabel('6-digit code').fill(totpCode(secret, lastUsedStep));
    await page.getByRole('button', { name: 'Confirm and continue' }).click();
    await page.locator('#recovery-codes').waitFor();
    recoveryCodes = (await page.locator('#recovery-codes li').allTextContents()).map((code) => code.trim());
    expect(recoveryCodes).toHaveLength(10);
    for (const code of recoveryCodes) expect(code).toMatch(/^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/);
    // app.js reveals the buttons.
    expect(await page.getByRole('button', { name: 'Copy' }).isVisible()).toBe(true);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: h.baseUrl });
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByText('Copied.').waitFor();
    expect((await page.evaluate<string>('navigator.clipboard.readText()')).trim().split('\n')).toEqual(recoveryCodes);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
    expect(download.suggestedFilename()).toBe(`twofold-recovery-codes-${USERNAME}.txt`);
    const saved = readFileSync((await download.path())!, 'utf8');
    for (const code of recoveryCodes) expect(saved).toContain(code);
    await screenshot('03-recovery-codes');

    await page.getByRole('link', { name: 'I saved them — continue' }).click();
    await page.waitForURL('**/account');
    expect(await page.locator('h1').textContent()).toBe('My account');
    expect(await page.locator('.row-current').textContent()).toContain('This device');
    expect(await page.locator('.events').textContent()).toContain('Authenticator app set up');
  });

  it('shows the error next to the form after a wrong password', async () => {
    await signOut();
    await signInWithPassword('not my password');
    await page.locator('.form-error').waitFor();
    expect(await page.locator('.form-error').textContent()).toBe('Invalid username or password.');
    expect(await page.getByLabel('Username').inputValue()).toBe(USERNAME);
    await screenshot('05-login-error');
  });

  it('signs in with the password and an authenticator code, back to the page asked for', async () => {
    await page.goto(`${h.baseUrl}/account`);
    await page.waitForURL('**/login?return_to=%2Faccount');
    await screenshot('04-login');
    await signInWithPassword();
    await page.waitForURL('**/login/second-factor?return_to=%2Faccount');
    expect(await page.locator(':focus').getAttribute('autocomplete')).toBe('one-time-code');
    await screenshot('06-second-factor');

    await page.getByLabel('Code from your authenticator app').fill(await freshCode());
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/account');
    const current = page.locator('table.sessions tr.row-current');
    expect(await current.textContent()).toContain('This device');
    expect(await current.textContent()).toContain('Chrome');
    expect(await current.textContent()).toContain('127.0.0.1');
  });

  it('steps up: asks for a second factor again, replaces the session and goes back', async () => {
    const before = await context.cookies(h.baseUrl);
    await page.goto(`${h.baseUrl}/step-up?return_to=${encodeURIComponent('/account?done=x')}`);
    expect(await page.locator('h1').textContent()).toBe('Confirm it is you');
    expect(await page.locator(':focus').getAttribute('autocomplete')).toBe('one-time-code');
    // A code no step within the window shows: refused, and nothing is spent.
    const near = [-1, 0, 1].map((offset) => totpCode(secret, currentStep() + offset));
    await page
      .getByLabel('Code from your authenticator app')
      .fill(['000000', '111111', '222222', '333333'].find((c) => !near.includes(c))!);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.locator('.form-error').waitFor();
    expect(await page.locator('.form-error').textContent()).toBe('That code is not valid.');
    await screenshot('09-step-up');

    await page.getByLabel('Code from your authenticator app').fill(await freshCode());
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForURL('**/account?done=x');
    expect(await page.locator('.events').textContent()).toContain('Confirmed it was you with an authenticator code');
    const sessionCookie = (cookies: typeof before) => cookies.find((c) => c.name.includes('twofold_session'))?.value;
    expect(sessionCookie(await context.cookies(h.baseUrl))).toBeDefined();
    expect(sessionCookie(await context.cookies(h.baseUrl))).not.toBe(sessionCookie(before));
    expect(await page.locator('table.sessions tbody tr').count()).toBe(1);
  });

  it('lists a second device and revokes it from the account page', async () => {
    // Another browser profile stands for another device; it answers with a recovery code.
    const otherDevice = await browser.newContext();
    try {
      const other = await otherDevice.newPage();
      other.setDefaultTimeout(10_000);
      await other.goto(`${h.baseUrl}/login`);
      await other.getByLabel('Username').fill(USERNAME);
      await other.getByLabel('Password').fill(PASSWORD);
      await other.getByRole('button', { name: 'Sign in' }).click();
      await other.waitForURL('**/login/second-factor');
      await other.getByRole('link', { name: 'Use a recovery code instead' }).click();
      await other.getByLabel('Recovery code').fill(recoveryCodes.pop()!);
      await other.getByRole('button', { name: 'Verify' }).click();
      await other.waitForURL('**/account');

      await page.reload();
      expect(await page.locator('table.sessions tbody tr').count()).toBe(2);
      await screenshot('07-account');
      await page.getByRole('button', { name: /^Revoke the session/ }).click();
      await page.waitForURL('**/account?done=session_revoked');
      expect(await page.locator('.notice').textContent()).toBe('The session was signed out.');
      expect(await page.locator('table.sessions tbody tr').count()).toBe(1);

      // The revoked device is sent back to the sign-in page, which will return it to /account.
      await other.goto(`${h.baseUrl}/account`);
      expect(pathOf(other)).toBe('/login');
      expect(new URL(other.url()).searchParams.get('return_to')).toBe('/account');
    } finally {
      await otherDevice.close();
    }
  });

  it('signs in with a recovery code, which then works no more', async () => {
    const code = recoveryCodes[0]!;
    await signOut();
    await signInWithPassword();
    await page.waitForURL('**/login/second-factor');
    await page.getByRole('link', { name: 'Use a recovery code instead' }).click();
    await page.waitForURL('**/login/second-factor?method=recovery_code');
    await screenshot('08-recovery-code');
    await page.getByLabel('Recovery code').fill(code);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/account');
    expect(await page.locator('.events').textContent()).toMatch(/signed in with a recovery code/i);
    expect(await page.getByText('Recovery codes left:').textContent()).toContain('8 of 10');

    await signOut();
    await signInWithPassword();
    await page.waitForURL('**/login/second-factor');
    await page.goto(`${h.baseUrl}/login/second-factor?method=recovery_code`);
    await page.getByLabel('Recovery code').fill(code);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.locator('.form-error').waitFor();
    expect(await page.locator('.form-error').textContent()).toContain('That code is not valid.');
    expect(pathOf(page)).toBe('/login/second-factor');
  });

  it('changes the password and regenerates the recovery codes from the account page', async () => {
    // Still on the pending sign-in of the previous step: finish it with another recovery code.
    await page.getByLabel('Recovery code').fill(recoveryCodes[1]!);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL('**/account');
    const newPassword = 'a completely different passphrase';
    const changePassword = async (current: string) => {
      await page.getByLabel('Current password').fill(current);
      await page.getByLabel('New password', { exact: true }).fill(newPassword);
      await page.getByLabel('Confirm new password').fill(newPassword);
      await page.getByRole('button', { name: 'Change password' }).click();
    };
    await changePassword('not my password');
    await page.locator('#password-error').waitFor();
    expect(await page.locator('#password-error').textContent()).toBe('The current password is not correct.');
    expect(await page.locator(':focus').getAttribute('name')).toBe('current_password');
    await changePassword(PASSWORD);
    await page.waitForURL('**/account?done=password_changed&n=0');
    expect(await page.locator('.notice').textContent()).toBe('Your password was changed.');

    await page.getByRole('button', { name: 'Regenerate recovery codes' }).click();
    await page.locator('#recovery-codes').waitFor();
    expect(await page.locator('h1').textContent()).toBe('Your new recovery codes');
    const fresh = (await page.locator('#recovery-codes li').allTextContents()).map((code) => code.trim());
    expect(fresh).toHaveLength(10);
    expect(fresh.filter((code) => recoveryCodes.includes(code))).toEqual([]);

    // A two-factor session may replace its authenticator: the page says what confirming does.
    await page.goto(`${h.baseUrl}/enroll`);
    expect(await page.locator('h1').textContent()).toBe('Set up a new authenticator');
    expect(await page.locator('.lead').textContent()).toContain('its codes stop working');
  });

  it('sends a second-factor page without a pending sign-in back to sign in', async () => {
    await signOut();
    await page.goto(`${h.baseUrl}/login/second-factor`);
    await page.waitForURL('**/login?notice=pending_login_invalid');
    expect(await page.locator('.notice').textContent()).toContain('Please sign in again.');
  });

  it('produced no script errors or CSP violations on any page', () => {
    expect(browserErrors).toEqual([]);
  });
});
