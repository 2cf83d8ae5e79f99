import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { DEFAULT_TOTP_PARAMS } from '../../src/core/factors/totp.js';
import type { User } from '../../src/store/store.js';
import { ApiClient, enrollTotp, totpAt, type EnrolledUser } from '../http/client.js';
import { startHarness, type Harness } from '../support/harness.js';
import { describeWithServices } from '../support/postgres.js';
import { addressOf, BEHIND_PROXY, countingHasher, HttpClient, pool, type Reply } from './attacker.js';

/**
 * TOTP guessing over real HTTP by an attacker who has the password: many pending sign-ins from many
 * addresses, every guess sent at once. The number of codes the server actually checks must be the
 * documented one, whatever the concurrency, so the chance of a hit is bounded by
 *   checked × (2 × totp.window + 1) / 10^digits   (docs/security/brute-force.md).
 */

const PENDING = 25;
const GUESSES_PER_PENDING = 7;

/** The documented bound on an attacker's success per lock cycle (100 × 3 / 10^6 with the defaults). */
const DOCUMENTED_BOUND = 3e-4;

/** The attack against one store: PostgreSQL answers asynchronously, so concurrent guesses really interleave there. */
const guessingAgainst = (postgres: boolean) => () => {
  let h: Harness;
  let vera: EnrolledUser;
  let veraUser: User;

  beforeAll(async () => {
    h = await startHarness({ listen: true, overrides: BEHIND_PROXY, hasher: countingHasher(), postgres });
    veraUser = await addUser(h.deps, { username: 'vera', password: 'amber kettle drifts past noon', isAdmin: false }, null);
    vera = await enrollTotp(h, new ApiClient(h), 'vera', 'amber kettle drifts past noon');
    h.clock.advance(30_000);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('checks exactly max_consecutive_factor_failures codes, at most max_code_attempts per pending sign-in; the bound follows', async () => {
    const { maxCodeAttempts, maxConsecutiveFactorFailures } = h.deps.config.login;
    const { window } = h.deps.config.totp;
    expect({ maxCodeAttempts, maxConsecutiveFactorFailures, window }).toEqual({
      maxCodeAttempts: 5,
      maxConsecutiveFactorFailures: 100,
      window: 1,
    });

    // The clock stands still during the attack, so the codes the server would accept are known: the
    // attacker's guesses avoid them, making the count of checks exact rather than a matter of luck.
    const valid = new Set(Array.from({ length: 2 * window + 1 }, (_, i) => totpAt(vera.secret, h.clock.now() + (i - window) * 30_000)));
    let next = 0;
    const wrongGuess = () => {
      let code: string;
      do code = String(next++).padStart(DEFAULT_TOTP_PARAMS.digits, '0');
      while (valid.has(code));
      return code;
    };

    const bots = Array.from({ length: PENDING }, (_, i) => new HttpClient(h, addressOf(4, i)));
    for (const bot of bots) expect((await bot.login('vera', vera.password)).body.state).toBe('second_factor_required');
    const guesses = bots.flatMap((bot) => Array.from({ length: GUESSES_PER_PENDING }, () => ({ bot, code: wrongGuess() })));
    const replies: Reply[] = await pool(
      guesses.map((g) => () => g.bot.secondFactor(g.code)),
      guesses.length,
    );
    expect(replies.some((r) => r.status === 200)).toBe(false);

    const events = (await h.deps.store.events.list({ userId: veraUser.id, limit: 1000 })).filter(
      (e) => e.type === 'login.second_factor' && e.outcome === 'failure',
    );
    // Every checked code is one failure event (recorded with the bot's address).
    const checked = events.length;
    expect(checked).toBe(maxConsecutiveFactorFailures);
    const perPending = new Map<string, number>();
    for (const e of events) perPending.set(e.ip!, (perPending.get(e.ip!) ?? 0) + 1);
    expect(Math.max(...perPending.values())).toBeLessThanOrEqual(maxCodeAttempts);
    const codes = (status: number, code: string) => replies.filter((r) => r.status === status && r.body.error.code === code).length;
    expect(codes(401, 'invalid_code') + codes(403, 'factor_locked') + codes(401, 'too_many_attempts')).toBe(replies.length);

    // The bound: each checked guess hits one of at most 2w+1 valid codes out of 10^digits.
    const bound = (checked * (2 * window + 1)) / 10 ** DEFAULT_TOTP_PARAMS.digits;
    expect(bound).toBeCloseTo(DOCUMENTED_BOUND, 12);
    const perPendingBound = (maxCodeAttempts * (2 * window + 1)) / 10 ** DEFAULT_TOTP_PARAMS.digits;
    expect(perPendingBound).toBeCloseTo(1.5e-5, 12);
  }, 60_000);

  it('then the factor is locked: even the right code is refused until an administrator resets it', async () => {
    const bot = new HttpClient(h, addressOf(4, 200));
    expect((await bot.login('vera', vera.password)).body.state).toBe('second_factor_required');
    const right = await bot.secondFactor(totpAt(vera.secret, h.clock.now() + 30_000));
    expect(right.status).toBe(403);
    expect(right.body.error.code).toBe('factor_locked');
  });
};

describe('TOTP guessing with the password, from 25 addresses at once (SQLite)', guessingAgainst(false));
describeWithServices('TOTP guessing with the password, from 25 addresses at once (PostgreSQL)', {}, guessingAgainst(true));
