import { dictionary } from '@zxcvbn-ts/language-common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { checkNewPassword } from '../../src/core/factors/password-policy.js';
import { ACCOUNT_FACTOR, attemptsAllowedWithin } from '../../src/core/policy/throttle.js';
import type { User } from '../../src/store/store.js';
import { ApiClient, enrollTotp, totpAt, type EnrolledUser } from '../http/client.js';
import { startHarness, type Harness } from '../support/harness.js';
import { addressOf, BEHIND_PROXY, countingHasher, HttpClient, pool, seededRandom, type CountingHasher, type Reply } from './attacker.js';

/**
 * Password spraying over real HTTP: a bot farm tries the most common passwords on every account,
 * each request from one of many addresses (X-Forwarded-For through the trusted proxy). The
 * throttles must bound how many passwords are actually checked (argon2 verifications, counted by
 * the hasher) as docs/security/brute-force.md says, and the accounts' owners must still get in
 * from the browsers they used before.
 */

/** The spraying list: the top of zxcvbn's common-password dictionary, the list the password policy refuses. */
const COMMON = dictionary.passwords.slice(0, 80);
const ACCOUNTS = 50;
const LEGIT = 3;

const accountName = (i: number) => `staff${String(i).padStart(2, '0')}`;
const accountPassword = (i: number) => `granite lantern ${i} orbits quietly`;

interface Spray {
  replies: Reply[];
  elapsedMs: number;
}

async function spray(h: Harness, attempts: Array<{ username: string; password: string; ip: string }>, concurrency: number): Promise<Spray> {
  const started = performance.now();
  const replies = await pool(
    attempts.map((a) => () => new HttpClient(h, a.ip).login(a.username, a.password)),
    concurrency,
  );
  return { replies, elapsedMs: performance.now() - started };
}

const statuses = (replies: Reply[]) =>
  replies.reduce<Record<number, number>>((acc, r) => ((acc[r.status] = (acc[r.status] ?? 0) + 1), acc), {});

describe('password spraying from 200 addresses across 50 accounts', () => {
  let h: Harness;
  let hasher: CountingHasher;
  const users: User[] = [];
  /** The first LEGIT accounts' owners: TOTP enrolled, and a browser that signed in before (a known device). */
  const owners: Array<{ user: EnrolledUser; laptop: HttpClient }> = [];

  beforeAll(async () => {
    hasher = countingHasher();
    h = await startHarness({ listen: true, overrides: BEHIND_PROXY, hasher });
    for (let i = 0; i < ACCOUNTS; i++)
      users.push(await addUser(h.deps, { username: accountName(i), password: accountPassword(i), isAdmin: false }, null));
    for (let i = 0; i < LEGIT; i++) {
      const user = await enrollTotp(h, new ApiClient(h), accountName(i), accountPassword(i));
      const laptop = new HttpClient(h, `192.0.2.${10 + i}`);
      h.clock.advance(30_000);
      expect((await laptop.login(user.username, user.password)).body.state).toBe('second_factor_required');
      expect((await laptop.secondFactor(totpAt(user.secret, h.clock.now()))).status).toBe(200);
      expect(laptop.jar.has('twofold_device')).toBe(true);
      owners.push({ user, laptop });
    }
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it('no common password can be an account password: the policy refuses every one of them', () => {
    for (const password of COMMON) expect(checkNewPassword(password, {}).ok, password).toBe(false);
  });

  it('4000 guesses: none succeeds, and the per-account budget bounds the passwords checked per account', async () => {
    const random = seededRandom(9);
    const attempts = COMMON.flatMap((password) =>
      users.map((u) => ({ username: u.username, password, ip: addressOf(1, Math.floor(random() * 200)) })),
    );
    expect(attempts).toHaveLength(4000);
    const before = hasher.totalVerifications;
    const { replies, elapsedMs } = await spray(h, attempts, 32);

    // Every answer is a uniform refusal: 401 for a checked guess, 429 for one the throttle refused.
    expect(Object.keys(statuses(replies)).sort()).toEqual(['401', '429']);
    for (const r of replies) expect(r.body.error.code).toBe(r.status === 401 ? 'invalid_credentials' : 'rate_limited');

    // The bound: an account's budget admits 50 guesses at once, then one after each growing delay.
    const { rateLimit } = h.deps.config;
    const perAccount = attemptsAllowedWithin(elapsedMs, {
      ...rateLimit,
      failuresBeforeDelay: rateLimit.failuresBeforeDelay * ACCOUNT_FACTOR,
    });
    expect(perAccount).toBeLessThan(COMMON.length);
    for (const user of users) {
      const checked = hasher.verificationsOf(user.passwordHash);
      // The owners' earlier sign-ins are the +2 (enrolment and the laptop's sign-in).
      const own = users.indexOf(user) < LEGIT ? 2 : 0;
      expect(checked - own, `${user.username}: passwords checked in ${elapsedMs.toFixed(0)} ms`).toBeLessThanOrEqual(perAccount);
      // ...and it is the account budget that binds (the free tries were all used), not luck.
      expect(checked - own).toBeGreaterThanOrEqual(rateLimit.failuresBeforeDelay * ACCOUNT_FACTOR);
    }
    const checkedNow = hasher.totalVerifications - before;
    expect(replies.filter((r) => r.status === 401)).toHaveLength(checkedNow);
    expect(checkedNow).toBeLessThanOrEqual(ACCOUNTS * perAccount);
    console.info(
      `spraying: ${attempts.length} guesses in ${(elapsedMs / 1000).toFixed(1)} s, ${checkedNow} checked (bound ${ACCOUNTS} × ${perAccount}), ${attempts.length - checkedNow} refused`,
    );
  }, 120_000);

  it('while the bots go on, the owners sign in from the browsers they used before; a new browser waits', async () => {
    const random = seededRandom(10);
    const more = COMMON.slice(0, 20).flatMap((password) =>
      owners.map(({ user }) => ({ username: user.username, password: `${password}!`, ip: addressOf(3, Math.floor(random() * 200)) })),
    );
    const bots = spray(h, more, 8);
    for (const { user, laptop } of owners) {
      h.clock.advance(30_000);
      const login = await laptop.login(user.username, user.password);
      expect(login.status, JSON.stringify(login.body)).toBe(200);
      expect(login.body.state).toBe('second_factor_required');
      const done = await laptop.secondFactor(totpAt(user.secret, h.clock.now()));
      expect(done.status, JSON.stringify(done.body)).toBe(200);
      expect(done.body.state).toBe('authenticated');
    }
    const { replies } = await bots;
    expect(replies.every((r) => r.status === 401 || r.status === 429)).toBe(true);

    for (const { user, laptop } of owners) {
      // The owners' sign-ins did not refill the bots' budget: the next guess waits (or is the one that starts a wait)...
      await new HttpClient(h, addressOf(3, 201)).login(user.username, 'one more guess');
      // ...and the same owner on a browser never used with the account shares that budget.
      const newBrowser = await new HttpClient(h, laptop.ip).login(user.username, user.password);
      expect(newBrowser.status).toBe(429);
      expect(Number(newBrowser.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
  }, 60_000);
});

describe('password spraying from a handful of addresses', () => {
  let h: Harness;
  let hasher: CountingHasher;

  beforeAll(async () => {
    hasher = countingHasher();
    h = await startHarness({ listen: true, overrides: BEHIND_PROXY, hasher });
    for (let i = 0; i < ACCOUNTS; i++)
      await addUser(h.deps, { username: accountName(i), password: accountPassword(i), isAdmin: false }, null);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('the per-address cap: each address gets ip_failures_per_hour checked guesses, then 429 for the hour', async () => {
    const ips = [addressOf(2, 1), addressOf(2, 2), addressOf(2, 3), addressOf(2, 4)];
    // 3 passwords × 50 accounts from each address: 150 guesses each, spread so no account or pair budget binds.
    const attempts = ips.flatMap((ip) =>
      COMMON.slice(0, 3).flatMap((password) => Array.from({ length: ACCOUNTS }, (_, i) => ({ username: accountName(i), password, ip }))),
    );
    const { replies } = await spray(h, attempts, 32);
    const cap = h.deps.config.rateLimit.ipFailuresPerHour;
    expect(cap).toBe(100);
    expect(hasher.totalVerifications).toBe(ips.length * cap);
    expect(statuses(replies)).toEqual({ 401: ips.length * cap, 429: attempts.length - ips.length * cap });
    const refused = replies.find((r) => r.status === 429)!;
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3000);
  }, 60_000);
});
