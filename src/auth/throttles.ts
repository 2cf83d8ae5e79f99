import { RateLimiterMemory, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { accountDelayMs, type ThrottleRules } from '../core/policy/throttle.js';
import { AppError } from './errors.js';

/**
 * Brute-force brakes for the sign-in steps. Counting and blocking live in rate-limiter-flexible
 * (in memory here; the same limiter API has Redis and PostgreSQL back ends for several nodes).
 *
 * - Per account and IP: consecutive password failures earn growing delays (1 s, 2 s, 4 s ... capped).
 * - Per account from anywhere: the same, from ten times the threshold, so spraying one account from
 *   many IPs slows down too, while one attacker alone cannot make the victim's own IP wait.
 * - Per IP: at most N failed steps (password or code) an hour, against credential stuffing.
 */
export interface Throttles {
  assertPasswordAllowed(username: string, ip: string): Promise<void>;
  passwordFailed(username: string, ip: string): Promise<void>;
  passwordSucceeded(username: string, ip: string): Promise<void>;
  assertCodeAllowed(ip: string): Promise<void>;
  codeFailed(ip: string): Promise<void>;
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

export function createThrottles(config: ThrottleConfig, limiter: LimiterFactory): Throttles {
  const pairFailures = limiter('pair-failures', { points: 1_000_000, duration: DAY_S });
  const accountFailures = limiter('account-failures', { points: 1_000_000, duration: DAY_S });
  // A key "blocked" here waits; block() sets the wait explicitly, so delays can grow.
  const waits = limiter('waits', { points: 1, duration: 1 });
  const ipFailures = limiter('ip-failures', { points: config.ipFailuresPerHour, duration: 3600 });
  const accountRules: ThrottleRules = { ...config, failuresBeforeDelay: config.failuresBeforeDelay * 10 };

  async function assertNotWaiting(keys: string[]): Promise<void> {
    for (const key of keys) {
      const res = await waits.get(key);
      if (res && res.consumedPoints > 0 && res.msBeforeNext > 0) throw rateLimited(res.msBeforeNext);
    }
  }
  async function assertIpAllowed(ip: string): Promise<void> {
    const res = await ipFailures.get(ip);
    if (res && res.consumedPoints >= config.ipFailuresPerHour) throw rateLimited(res.msBeforeNext);
  }
  async function fail(limiter: RateLimiterAbstract, key: string, rules: ThrottleRules): Promise<void> {
    const res = await limiter.penalty(key, 1);
    const delay = accountDelayMs(res.consumedPoints, rules);
    if (delay > 0) await waits.block(key, Math.ceil(delay / 1000));
  }

  return {
    async assertPasswordAllowed(username, ip) {
      await assertIpAllowed(ip);
      await assertNotWaiting([`pair:${username}:${ip}`, `account:${username}`]);
    },
    async passwordFailed(username, ip) {
      await ipFailures.penalty(ip, 1);
      await fail(pairFailures, `pair:${username}:${ip}`, config);
      await fail(accountFailures, `account:${username}`, accountRules);
    },
    async passwordSucceeded(username, ip) {
      await pairFailures.delete(`pair:${username}:${ip}`);
      await accountFailures.delete(`account:${username}`);
    },
    assertCodeAllowed: assertIpAllowed,
    async codeFailed(ip) {
      await ipFailures.penalty(ip, 1);
    },
  };
}

function rateLimited(msBeforeNext: number): AppError {
  const retryAfterSeconds = Math.max(1, Math.ceil(msBeforeNext / 1000));
  return new AppError('rate_limited', `Too many failed attempts. Try again in ${retryAfterSeconds} s.`, { retryAfterSeconds });
}
