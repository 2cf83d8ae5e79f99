import { recordEvent } from '../auth/audit.js';
import type { AuthDeps, RequestContext } from '../auth/deps.js';
import { AppError } from '../auth/errors.js';
import { newRecordId, newSecretToken } from '../core/ids.js';
import { checkEndpointUrl } from '../core/webhooks/endpoint-url.js';
import { testPayload } from '../core/webhooks/payload.js';
import { checkSubscription, TEST_EVENT_TYPE } from '../core/webhooks/security-events.js';
import { newWebhookSecret } from '../core/webhooks/signature.js';
import type { DeliveryCounts, WebhookAttempt, WebhookDelivery, WebhookEndpoint } from '../store/webhook-store.js';
import { attemptDelivery, leaseUntil, secretAssociatedData } from './deliver.js';
import { newDeliveryId, newMessageId } from './outbox.js';

/** Managing webhook endpoints: the use cases behind the admin API and `twofold webhooks`. */

export interface EndpointInput {
  url: string;
  events: string[];
  description?: string;
}

export interface CreatedEndpoint {
  endpoint: WebhookEndpoint;
  /** whsec_…: shown once, here; afterwards only its sealed form exists. */
  secret: string;
}

/** Registers an endpoint and makes its signing secret. Bad input is a bad_request naming the field. */
export async function addEndpoint(deps: AuthDeps, input: EndpointInput, ctx: RequestContext | null): Promise<CreatedEndpoint> {
  const url = checkEndpointUrl(input.url);
  if (!url.ok) throw new AppError('bad_request', url.problem);
  const events = checkSubscription(input.events);
  if (!events.ok) throw new AppError('bad_request', events.problem);
  const description = (input.description ?? '').trim();
  if (description.length > 200) throw new AppError('bad_request', 'description: at most 200 characters');
  const id = newRecordId('whk', deps.random);
  const secret = newWebhookSecret(deps.random);
  const endpoint: WebhookEndpoint = {
    id,
    url: url.url,
    description,
    events: events.patterns,
    secretSealed: deps.secretBox.seal(Buffer.from(secret, 'utf8'), secretAssociatedData(id)),
    createdAt: deps.clock.now(),
  };
  await deps.store.webhooks.addEndpoint(endpoint);
  await recordEvent(deps, { type: 'webhook.endpoint_added', outcome: 'success', detail: { endpoint: id, events: events.patterns } }, ctx);
  return { endpoint, secret };
}

export async function requireEndpoint(deps: AuthDeps, id: string): Promise<WebhookEndpoint> {
  const endpoint = await deps.store.webhooks.findEndpoint(id);
  if (!endpoint) throw new AppError('not_found', 'No such webhook endpoint.');
  return endpoint;
}

export async function removeEndpoint(deps: AuthDeps, id: string, ctx: RequestContext | null): Promise<void> {
  if (!(await deps.store.webhooks.removeEndpoint(id))) throw new AppError('not_found', 'No such webhook endpoint.');
  await recordEvent(deps, { type: 'webhook.endpoint_removed', outcome: 'success', detail: { endpoint: id } }, ctx);
}

export interface EndpointSummary {
  endpoint: WebhookEndpoint;
  counts: DeliveryCounts;
}

export async function listEndpoints(deps: AuthDeps): Promise<EndpointSummary[]> {
  const [endpoints, counts] = await Promise.all([deps.store.webhooks.listEndpoints(), deps.store.webhooks.countDeliveries()]);
  return endpoints.map((endpoint) => ({
    endpoint,
    counts: counts.get(endpoint.id) ?? { pending: 0, delivered: 0, failed: 0, lastAttemptAt: null },
  }));
}

export interface DeliveryLogEntry {
  delivery: WebhookDelivery;
  attempts: WebhookAttempt[];
}

/** The delivery log of one endpoint: its latest deliveries, newest first, each with every attempt. */
export async function deliveryLog(deps: AuthDeps, endpointId: string, limit: number): Promise<DeliveryLogEntry[]> {
  await requireEndpoint(deps, endpointId);
  const deliveries = await deps.store.webhooks.listDeliveries(endpointId, limit);
  const attempts = await deps.store.webhooks.listAttempts(deliveries.map((d) => d.id));
  return deliveries.map((delivery) => ({ delivery, attempts: attempts.filter((a) => a.deliveryId === delivery.id) }));
}

/**
 * Sends a webhook.test message to one endpoint now and reports the attempt. The message is queued
 * (already claimed by this caller), so when the receiver is down the worker retries it on the usual schedule.
 */
export async function sendTestMessage(deps: AuthDeps, endpointId: string): Promise<DeliveryLogEntry> {
  const endpoint = await requireEndpoint(deps, endpointId);
  const now = deps.clock.now();
  const id = newDeliveryId(deps.random);
  const token = newSecretToken(deps.random);
  const message = {
    id,
    endpointId: endpoint.id,
    messageId: newMessageId(deps.random),
    eventId: null,
    eventType: TEST_EVENT_TYPE,
    payload: JSON.stringify(testPayload(endpoint.id, now)),
    createdAt: now,
  };
  await attemptDelivery(deps, await deps.store.webhooks.enqueueClaimed(message, leaseUntil(deps, now), token), token);
  const delivery = await deps.store.webhooks.findDelivery(id);
  return { delivery: delivery!, attempts: await deps.store.webhooks.listAttempts([id]) };
}
