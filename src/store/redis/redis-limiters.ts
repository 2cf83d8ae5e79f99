import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis } from 'rate-limiter-flexible';
import type { LimiterFactory } from '../../auth/throttles.js';

/**
 * Rate limits counted in Redis, so every node sees the same failures. While Redis does not answer,
 * each limiter counts in this node's memory instead (rate-limiter-flexible's insurance limiter), so
 * sign-in keeps working and is still braked; the shared counts resume when Redis is back.
 */
export function redisLimiters(client: Redis): LimiterFactory {
  return (name, options) =>
    new RateLimiterRedis({
      storeClient: client,
      keyPrefix: `twofold:rl:${name}`,
      ...options,
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory(options),
    });
}
