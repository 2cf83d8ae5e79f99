/**
 * When a failed delivery is tried again. Exponential backoff with jitter: the n-th retry waits
 * first × factorⁿ⁻¹, capped, then spread by ±jitter so receivers coming back after an outage are not
 * hit by every sender's retries in the same second. The defaults (5 s × 5ⁿ⁻¹, capped at 10 h, 9
 * attempts) follow the shape of the Standard Webhooks recommended schedule (5 s, 5 min, 30 min,
 * 2 h, 5 h, 10 h, 10 h): about a day of retries before a delivery is given up.
 */
export interface RetrySchedule {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  firstDelayMs: number;
  factor: number;
  maxDelayMs: number;
  /** 0.2: each delay is drawn from [0.8, 1.2] × its nominal value. */
  jitter: number;
}

export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = {
  maxAttempts: 9,
  firstDelayMs: 5_000,
  factor: 5,
  maxDelayMs: 10 * 3_600_000,
  jitter: 0.2,
};

/** The nominal wait after the `attemptsMade`-th failed attempt (1-based), before jitter. */
export function nominalRetryDelay(attemptsMade: number, schedule: RetrySchedule): number {
  const exponent = Math.max(0, attemptsMade - 1);
  return Math.min(schedule.maxDelayMs, schedule.firstDelayMs * schedule.factor ** exponent);
}

export type AfterFailure = { kind: 'retry'; at: number } | { kind: 'give_up' };

/**
 * What follows a failed attempt. `unit` is a uniform random number in [0, 1) (injected, so tests
 * can pin it).
 */
export function afterFailure(attemptsMade: number, now: number, schedule: RetrySchedule, unit: number): AfterFailure {
  if (attemptsMade >= schedule.maxAttempts) return { kind: 'give_up' };
  const nominal = nominalRetryDelay(attemptsMade, schedule);
  const spread = 1 - schedule.jitter + 2 * schedule.jitter * Math.min(Math.max(unit, 0), 1);
  return { kind: 'retry', at: now + Math.round(nominal * spread) };
}
