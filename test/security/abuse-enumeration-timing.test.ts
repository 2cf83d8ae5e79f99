import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser, setUserDisabled } from '../../src/auth/users.js';
import type { User } from '../../src/store/store.js';
import { startHarness, type Harness } from '../support/harness.js';
import { addressOf, BEHIND_PROXY, HttpClient, seededRandom, type Reply } from './attacker.js';

/**
 * User enumeration over real HTTP, with the real argon2id parameters (the cost is what is being
 * compared): an existing user with a wrong password and a user that does not exist must take the
 * same time and get the same answer. Timing is judged statistically, as the argon2 timing test does
 * (test/crypto/password-hasher.test.ts): samples interleaved in a seeded random order so load from
 * other processes lands on both sides, compared by the median and trimmed mean of the paired
 * differences (one request of each kind per round), against the time of one
 * argon2 verification: a missing dummy verification would show as a difference of about that much.
 */

const SAMPLES = 60;
const PASSWORD = 'saffron ladder leans west';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
/** Mean of the middle 60 %: robust to the bursts of a shared machine, yet uses more samples than the median. */
const trimmedMean = (xs: number[], trim = 0.2) => {
  const s = [...xs].sort((a, b) => a - b);
  const cut = Math.floor(s.length * trim);
  const kept = s.slice(cut, s.length - cut);
  return kept.reduce((a, b) => a + b, 0) / kept.length;
};

/** What an observer can compare besides time: status, body and headers (the date aside). */
const shapeOf = (r: Reply) => ({
  status: r.status,
  body: r.text,
  // A per-request id and the time differ on every answer; their presence and form are compared.
  headers: Object.fromEntries(
    [...r.headers]
      .filter(([name]) => !['date', 'retry-after'].includes(name))
      .map(([name, value]) => [name, name === 'x-request-id' ? value.replace(/[0-9a-f]/g, 'x') : value]),
  ),
  retryAfter: r.headers.has('retry-after'),
});

describe('no user enumeration over HTTP (real argon2 parameters)', () => {
  let h: Harness;
  const users: User[] = [];

  beforeAll(async () => {
    h = await startHarness({ listen: true, overrides: BEHIND_PROXY });
    for (let i = 0; i < 5; i++) users.push(await addUser(h.deps, { username: `tim${i}`, password: PASSWORD, isAdmin: false }, null));
    const gone = await addUser(h.deps, { username: 'gone', password: PASSWORD, isAdmin: false }, null);
    await setUserDisabled(h.deps, gone, true, null);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it('unknown user, wrong password, disabled user and a malformed name: the same status, body and headers', async () => {
    const tries: Array<[string, string]> = [
      ['nobody-at-all', PASSWORD],
      ['tim0', 'not the password'],
      ['gone', PASSWORD],
      ['not a valid name!', PASSWORD],
    ];
    const shapes = [];
    for (const [i, [username, password]] of tries.entries())
      shapes.push(shapeOf(await new HttpClient(h, addressOf(9, i)).login(username, password)));
    expect(shapes[0]!.status).toBe(401);
    expect(shapes[0]!.headers['set-cookie']).toBeUndefined();
    for (const shape of shapes) expect(shape).toEqual(shapes[0]);
  });

  it('and when throttled: the 429 of an existing account is the 429 of a made-up one', async () => {
    const throttled = async (username: string, ip: string) => {
      const bot = new HttpClient(h, ip);
      for (let i = 0; i < h.deps.config.rateLimit.failuresBeforeDelay; i++)
        expect((await bot.login(username, `guess ${i}`)).status).toBe(401);
      return shapeOf(await bot.login(username, 'one more'));
    };
    const existing = await throttled('tim1', addressOf(9, 10));
    const unknown = await throttled('nobody-either', addressOf(9, 11));
    expect(existing.status).toBe(429);
    expect(unknown).toEqual(existing);
  });

  it(`timing: over ${SAMPLES} interleaved samples each, the paired median and trimmed mean differ by less than half an argon2 verification`, async () => {
    const random = seededRandom(4);
    const time = async (username: string, ip: string, withDeviceCookie: boolean) => {
      const client = new HttpClient(h, ip);
      const cookies = withDeviceCookie ? { twofold_device: `${'d'.repeat(22)}.${'s'.repeat(43)}` } : undefined;
      const start = performance.now();
      const res = await client.post('/api/v1/login', { username, password: 'wrong password here' }, { cookies });
      const ms = performance.now() - start;
      expect(res.status).toBe(401);
      return ms;
    };
    const hashOwner = users[0]!;
    const verify = async () => {
      const start = performance.now();
      await h.deps.hasher.verify(hashOwner.passwordHash, 'wrong password here');
      return performance.now() - start;
    };
    // Warm-up: the first requests pay for connections and lazy loading on both sides.
    await time('tim4', addressOf(10, 999), false);
    await time('nobody-warm', addressOf(10, 998), false);

    const existing: number[] = [];
    const unknown: number[] = [];
    const argon2: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const cookie = i % 2 === 0;
      const arms = [
        async () => existing.push(await time(users[i % users.length]!.username, addressOf(10, 2 * i), cookie)),
        async () => unknown.push(await time(`nobody${i}`, addressOf(10, 2 * i + 1), cookie)),
        async () => argon2.push(await verify()),
      ];
      // A seeded shuffle per round, so neither side is always first (warm caches, GC, bursts).
      for (let j = arms.length - 1; j > 0; j--) {
        const k = Math.floor(random() * (j + 1));
        [arms[j], arms[k]] = [arms[k]!, arms[j]!];
      }
      for (const arm of arms) await arm();
    }
    const verifyMs = median(argon2);
    // Paired by round (the two requests of a round ran back to back): slow swings of the machine's load cancel out.
    const paired = existing.map((ms, i) => ms - unknown[i]!);
    const report =
      `existing ${median(existing).toFixed(1)}/${trimmedMean(existing).toFixed(1)} ms, unknown ${median(unknown).toFixed(1)}/${trimmedMean(unknown).toFixed(1)} ms ` +
      `(median/trimmed mean), paired difference ${median(paired).toFixed(2)}/${trimmedMean(paired).toFixed(2)} ms, argon2 verify ${verifyMs.toFixed(1)} ms`;
    console.info(`enumeration timing: ${report}`);
    // Both sides do the argon2 work...
    expect(median(existing), report).toBeGreaterThan(verifyMs * 0.5);
    expect(median(unknown), report).toBeGreaterThan(verifyMs * 0.5);
    // ...and what is left differs by much less than one verification (the leak that skipping it would make).
    expect(Math.abs(median(paired)), report).toBeLessThan(verifyMs * 0.5);
    expect(Math.abs(trimmedMean(paired)), report).toBeLessThan(verifyMs * 0.5);
  }, 90_000);
});
