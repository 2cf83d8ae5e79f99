import type { RetrySchedule } from './retry-schedule.js';

/** The `webhooks` section of the configuration, validated (docs/webhooks.md). */
export interface WebhookSettings {
  /** Run the delivery worker in `twofold serve` on this node (events are queued either way). */
  deliver: boolean;
  /** One attempt waits this long for the receiver's answer. */
  timeoutMs: number;
  /** How often the worker looks for due deliveries. */
  pollIntervalMs: number;
  retry: RetrySchedule;
}

export interface RawWebhookSettings {
  deliver: boolean;
  max_attempts: number;
  timeout: string;
  retry_delay: string;
  retry_factor: number;
  max_retry_delay: string;
  poll_interval: string;
}

/** Durations are parsed by config.ts's `duration` (which reports bad values); checks that relate two values are here. */
export function webhookSettings(
  raw: RawWebhookSettings,
  duration: (key: string, value: string, minMs?: number) => number,
  problems: string[],
): WebhookSettings {
  const firstDelayMs = duration('webhooks.retry_delay', raw.retry_delay, 10);
  const maxDelayMs = duration('webhooks.max_retry_delay', raw.max_retry_delay, 10);
  const timeoutMs = duration('webhooks.timeout', raw.timeout, 100);
  if (timeoutMs > 120_000) problems.push('webhooks.timeout: must be at most 120s (a slow receiver would hold a delivery slot)');
  if (firstDelayMs > 0 && maxDelayMs > 0 && maxDelayMs < firstDelayMs) {
    problems.push('webhooks.max_retry_delay: must not be shorter than webhooks.retry_delay');
  }
  return {
    deliver: raw.deliver,
    timeoutMs,
    pollIntervalMs: duration('webhooks.poll_interval', raw.poll_interval, 10),
    retry: { maxAttempts: raw.max_attempts, firstDelayMs, factor: raw.retry_factor, maxDelayMs, jitter: 0.2 },
  };
}
