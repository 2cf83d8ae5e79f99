import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { accountDelayMs, passwordBudgets, type PasswordAttempt, type PasswordBudget, type ThrottleRules } from '../core/policy/throttle.js';
import { AppError } from './errors.js';

/**
 * Brute-force brakes for the sign-in steps (docs/security/brute-force.md). Counting and blocking
 * live in rate-limiter-flexible (in memory here; the same limiter API has Redis and PostgreSQL back
 * ends for several nodes). Which budgets an attempt spends is decided in src/core/policy/throttle.ts:
 *
 * - Per account and IP: consecutive password failures earn growing delays (1 s, 2 s, 4 s ... capped).
 * - Per account from anywhere: the same, from ten times the threshold, so spraying one account from
 *   many IPs slows down too, while one attacker alone cannot make the victim's own IP wait.
 * - Per account and known device: a browser that signed in to the account before spends only its
 *   own budget, so strangers' failures never make it wait (no lockout DoS).
 * - Per IP: at most N failed steps (password or code) an hour, against credential stuffing.
 *
 * A password attempt is counted before its hash is checked, and every attempt whose failure would
 * earn a delay must hold the budget's single turn: however many requests arrive at once, the number
 * of argon2 verifications stays within the documented bound (attemptsAllowedWithin).
 */
export interface Throttles {
  /** Takes one attempt from each budget before the password is checked; throws rate_limited when one is spent. */
  claimPasswordAttempt(attempt: PasswordAttempt): Promise<PasswordClaim>;
  assertCodeAllowed(ip: string): Promise<void>;
  codeFailed(ip: string): Promise<void>;
}

/** An admitted password attempt. It already counts as a failure (and has started any delay it earns); a right password clears that. */
export interface PasswordClaim {
  succeeded(): Promise<void>;
}

export interface ThrottleConfig extends ThrottleRules {
  ipFailuresPerHour: number;
}

const DAY_S = 86_400;

/** Makes one named limiter: in memory (one node), or shared by every node (src/store/redis/redis-limiters.ts). */
export type LimiterFactory = (name: string, options: { points: number; duration: number }) => RateLimiterAbstract;

export const memoryLimiters: LimiterFactory = (_name, options) => new RateLimiterMemory(options);

export function createMemoryThrottles(config: ThrottleConfig): Throttles {
  return createThrottles(config, memoryLimiters);
}

/** One budget's share of a claim: to give back if the attempt is refused by another budget or succeeds. */
interface Held {
  budget: PasswordBudget;
  tookTurn: boolean;
}

export function createThrottles(config: ThrottleConfig, limiter: LimiterFactory): Throttles {
  // Consecutive failures per budget key, forgotten a day after the first.
  const failures = limiter('password-failures', { points: 1_000_000, duration: DAY_S });
  // A budget's turn: taken (atomically, one holder) by an attempt whose failure earns a delay, then
  // blocked for that delay; block() sets the wait explicitly, so delays can grow.
  const turns = limiter('waits', { points: 1, duration: 1 });
  const ipFailures = limiter('ip-failures', { points: config.ipFailuresPerHour, duration: 3600 });

  async function assertNotWaiting(key: string): Promise<void> {
    const res = await turns.get(key);
    if (res && res.consumedPoints > 0 && res.msBeforeNext > 0) throw rateLimited(res.msBeforeNext);
  }
  async function assertIpAllowed(ip: string): Promise<void> {
    const res = await ipFailures.get(ip);
    if (res && res.consumedPoints >= config.ipFailuresPerHour) throw rateLimited(res.msBeforeNext);
  }
  async function claimIp(ip: string): Promise<void> {
    await assertIpAllowed(ip);
    try {
      await ipFailures.consume(ip, 1);
    } catch (err) {
      throw refusal(err);
    }
  }
  async function claimBudget(budget: PasswordBudget): Promise<Held> {
    await assertNotWaiting(budget.key);
    const attempt = (await failures.penalty(budget.key, 1)).consumedPoints;
    const delayMs = accountDelayMs(attempt, budget.rules);
    if (delayMs === 0) return { budget, tookTurn: false };
    try {
      await turns.consume(budget.key, 1);
    } catch (err) {
      await failures.reward(budget.key, 1);
      throw refusal(err);
    }
    // The delay this attempt earns if it fails starts now, so the next one waits for it either way.
    await turns.block(budget.key, Math.ceil(delayMs / 1000));
    return { budget, tookTurn: true };
  }
  async function giveBack(held: Held[]): Promise<void> {
    for (const { budget, tookTurn } of held) {
      await failures.reward(budget.key, 1);
      if (tookTurn) await turns.delete(budget.key);
    }
  }

  return {
    async claimPasswordAttempt(attempt) {
      const budgets = passwordBudgets(attempt, config);
      // A known device is not braked by its address: an attacker behind the same NAT spends that, not the device's budget.
      const countsAgainstIp = attempt.knownDevice === undefined;
      // Cheap refusals first, so a spent budget costs no counter updates.
      if (countsAgainstIp) await assertIpAllowed(attempt.ip);
      for (const budget of budgets) await assertNotWaiting(budget.key);

      if (countsAgainstIp) await claimIp(attempt.ip);
      const held: Held[] = [];
      try {
        for (const budget of budgets) held.push(await claimBudget(budget));
      } catch (err) {
        await giveBack(held);
        if (countsAgainstIp) await ipFailures.reward(attempt.ip, 1);
        throw err;
      }
      return {
        async succeeded() {
          for (const { budget } of held) {
            await failures.delete(budget.key);
            await turns.delete(budget.key);
          }
          if (countsAgainstIp) await ipFailures.reward(attempt.ip, 1);
        },
      };
    },
    assertCodeAllowed: assertIpAllowed,
    async codeFailed(ip) {
      await ipFailures.penalty(ip, 1);
    },
  };
}

/** A limiter's rejection (its RateLimiterRes) becomes rate_limited; anything else (a Redis error) passes through. */
function refusal(err: unknown): unknown {
  return err instanceof RateLimiterRes ? rateLimited(err.msBeforeNext) : err;
}

function rateLimited(msBeforeNext: number): AppError {
  const retryAfterSeconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new AppError('rate_limited', `Too many failed attempts. Try again in ${retryAfterSeconds} s.`, { retryAfterSeconds });
}
