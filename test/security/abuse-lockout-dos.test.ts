import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { ApiClient, enrollTotp, totpAt, type EnrolledUser } from '../http/client.js';
import { startHarness, type Harness } from '../support/harness.js';
import { addressOf, BEHIND_PROXY, countingHasher, HttpClient, pool } from './attacker.js';

/**
 * Lockout DoS over real HTTP: an attacker who wants to keep a victim out hammers her username with
 * wrong passwords from 150 addresses, and spends the per-address cap of the café address she shares.
 * The throttles may make strangers wait, but never the browser she signed in with before (a known
 * device: src/auth/known-device.ts, src/core/policy/throttle.ts passwordBudgets), wherever she is.
 */

const PASSWORD = 'copper meadow hums at dusk';
const HOME = '192.0.2.50';
/** An address the victim shares with the attacker (a café, a carrier NAT). */
const CAFE = '198.51.100.7';

describe('lockout DoS against a victim', () => {
  let h: Harness;
  let vicky: EnrolledUser;
  /** Her browser: signed in before, asked to be remembered. */
  let laptop: HttpClient;

  const signInFrom = async (browser: HttpClient) => {
    h.clock.advance(30_000);
    const login = await browser.login('vicky', PASSWORD);
    expect(login.status, JSON.stringify(login.body)).toBe(200);
    expect(login.body.state).toBe('second_factor_required');
    const done = await browser.secondFactor(totpAt(vicky.secret, h.clock.now()));
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.state).toBe('authenticated');
  };
  /** The attacker: wrong passwords for vicky from many addresses, a few in flight at a time. */
  const hammer = (block: number, addresses: number, each: number) =>
    pool(
      Array.from(
        { length: addresses * each },
        (_, i) => () => new HttpClient(h, addressOf(block, i % addresses)).login('vicky', `guess ${block}.${i}`),
      ),
      16,
    );

  beforeAll(async () => {
    h = await startHarness({ listen: true, overrides: BEHIND_PROXY, hasher: countingHasher() });
    await addUser(h.deps, { username: 'vicky', password: PASSWORD, isAdmin: false }, null);
    vicky = await enrollTotp(h, new ApiClient(h), 'vicky', PASSWORD);
    laptop = new HttpClient(h, HOME);
    h.clock.advance(30_000);
    expect((await laptop.login('vicky', PASSWORD)).body.state).toBe('second_factor_required');
    const first = await laptop.post('/api/v1/login/second-factor', {
      method: 'totp',
      code: totpAt(vicky.secret, h.clock.now()),
      remember_device: true,
    });
    expect(first.status).toBe(200);
    expect(laptop.jar.has('twofold_device')).toBe(true);

    // 300 wrong passwords from 150 addresses: far past the account's 50 free failures.
    const replies = await hammer(5, 150, 2);
    expect(replies.filter((r) => r.status === 429).length).toBeGreaterThan(200);
    // The café address spends its hourly cap on made-up accounts.
    const cafe = new HttpClient(h, CAFE);
    for (let i = 0; i < h.deps.config.rateLimit.ipFailuresPerHour; i++) expect((await cafe.login(`nobody${i}`, 'guess')).status).toBe(401);
    expect((await cafe.login('nobody-else', 'guess')).status).toBe(429);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it('the attack works on strangers: a new browser, even with the right password, is told to wait', async () => {
    await new HttpClient(h, addressOf(6, 1)).login('vicky', 'keeps the wait running');
    const newBrowser = await new HttpClient(h, addressOf(6, 2)).login('vicky', PASSWORD);
    expect(newBrowser.status).toBe(429);
    expect(newBrowser.body.error.code).toBe('rate_limited');
  });

  it('a made-up device cookie is a stranger too: only a browser that signed in before has its own budget', async () => {
    await new HttpClient(h, addressOf(6, 3)).login('vicky', 'keeps the wait running');
    const forged = await new HttpClient(h, addressOf(6, 4)).post(
      '/api/v1/login',
      { username: 'vicky', password: PASSWORD },
      { cookies: { twofold_device: `${'A'.repeat(22)}.${'B'.repeat(43)}` } },
    );
    expect(forged.status).toBe(429);
  });

  it('the victim signs in from her laptop at home, while the attack goes on', async () => {
    const attack = hammer(7, 50, 4);
    await signInFrom(laptop);
    await signInFrom(laptop);
    await attack;
  }, 30_000);

  it('and from the café whose address the attacker exhausted (password and code step)', async () => {
    laptop.ip = CAFE;
    await signInFrom(laptop);
    laptop.ip = HOME;
  });

  it("her sign-ins did not refill the attacker's budget", async () => {
    await new HttpClient(h, addressOf(6, 5)).login('vicky', 'keeps the wait running');
    expect((await new HttpClient(h, addressOf(6, 6)).login('vicky', 'another guess')).status).toBe(429);
  });

  it('her laptop is braked like any other budget: a thief of the cookie gets 5 tries, then waits', async () => {
    const thief = new HttpClient(h, addressOf(6, 7));
    for (const [name, value] of laptop.jar) if (name === 'twofold_device') thief.jar.set(name, value);
    for (let i = 0; i < h.deps.config.rateLimit.failuresBeforeDelay; i++)
      expect((await thief.login('vicky', `thief ${i}`)).status).toBe(401);
    expect((await thief.login('vicky', 'thief again')).status).toBe(429);
  });
});
