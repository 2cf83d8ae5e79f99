import type { AuthDeps } from '../auth/deps.js';
import { afterFailure } from '../core/webhooks/retry-schedule.js';
import { signWebhook, webhookSecretKey } from '../core/webhooks/signature.js';
import type { DeliveryOutcome, WebhookAttempt, WebhookDelivery, WebhookEndpoint } from '../store/webhook-store.js';
import { sendAttempt } from './send-attempt.js';

/** Associated data binding a sealed secret to its endpoint: a sealed value moved to another row does not open. */
export const secretAssociatedData = (endpointId: string): string => `webhook-endpoint:${endpointId}`;

/** The endpoint's HMAC key, unsealed only for the moment of signing. */
function signingKey(deps: AuthDeps, endpoint: WebhookEndpoint): Buffer {
  const secret = deps.secretBox.open(endpoint.secretSealed, secretAssociatedData(endpoint.id));
  const key = webhookSecretKey(secret.toString('utf8'));
  if (!key) throw new Error('stored webhook secret is malformed');
  return key;
}

/** A uniform number in [0, 1) from the injected randomness, for the retry jitter. */
const unitRandom = (deps: AuthDeps): number => deps.random(4).readUInt32BE(0) / 2 ** 32;

/** Room beyond the attempt's own timeout before another worker may take the delivery over. */
const LEASE_MARGIN_MS = 60_000;

export const leaseUntil = (deps: AuthDeps, now: number): number => now + deps.config.webhooks.timeoutMs + LEASE_MARGIN_MS;

/**
 * One attempt of a delivery this worker holds (claimed with `leaseToken`): sign with the current
 * time, POST, log the attempt, and schedule the retry or give up. The HMAC covers
 * `${webhook-id}.${webhook-timestamp}.${body}` (Standard Webhooks), the timestamp being this attempt's.
 */
export async function attemptDelivery(
  deps: AuthDeps,
  delivery: WebhookDelivery,
  leaseToken: string,
): Promise<{ attempt: WebhookAttempt; outcome: DeliveryOutcome }> {
  const endpoint = await deps.store.webhooks.findEndpoint(delivery.endpointId);
  const at = deps.clock.now();
  const base = { deliveryId: delivery.id, endpointId: delivery.endpointId, attempt: delivery.attempts, at };
  let attempt: WebhookAttempt;
  if (!endpoint) {
    attempt = { ...base, statusCode: null, error: 'endpoint removed', durationMs: 0 };
  } else if (delivery.attempts > deps.config.webhooks.retry.maxAttempts) {
    // A worker stopped mid-attempt (crash) after the last allowed try was counted.
    attempt = { ...base, statusCode: null, error: 'attempts exhausted', durationMs: 0 };
  } else {
    let key: Buffer | null = null;
    try {
      key = signingKey(deps, endpoint);
    } catch {
      // Another encryption key than the one that sealed it (a node misconfigured): retried, in case it is fixed.
      key = null;
    }
    const result = key
      ? await sendAttempt(
          endpoint.url,
          signWebhook(key, delivery.messageId, at / 1000, delivery.payload),
          delivery.payload,
          deps.config.webhooks.timeoutMs,
        )
      : { ok: false, statusCode: null, error: 'endpoint secret could not be opened (encryption key?)', durationMs: 0 };
    attempt = { ...base, statusCode: result.statusCode, error: result.error, durationMs: result.durationMs };
    if (result.ok) {
      const outcome: DeliveryOutcome = { status: 'delivered' };
      await deps.store.webhooks.finish(delivery.id, leaseToken, attempt, outcome);
      deps.metrics?.webhookAttempts.inc({ result: 'delivered' });
      return { attempt, outcome };
    }
  }
  const next =
    endpoint && delivery.attempts <= deps.config.webhooks.retry.maxAttempts
      ? afterFailure(delivery.attempts, deps.clock.now(), deps.config.webhooks.retry, unitRandom(deps))
      : ({ kind: 'give_up' } as const);
  const outcome: DeliveryOutcome = next.kind === 'retry' ? { status: 'pending', nextAttemptAt: next.at } : { status: 'failed' };
  await deps.store.webhooks.finish(delivery.id, leaseToken, attempt, outcome);
  deps.metrics?.webhookAttempts.inc({ result: next.kind === 'retry' ? 'retry' : 'failed' });
  return { attempt, outcome };
}
