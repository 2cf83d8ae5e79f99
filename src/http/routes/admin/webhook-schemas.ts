import { Type } from '@sinclair/typebox';
import { WEBHOOK_EVENT_TYPES } from '../../../core/webhooks/security-events.js';
import type { DeliveryLogEntry, EndpointSummary } from '../../../webhooks/endpoints.js';
import type { WebhookEndpoint } from '../../../store/webhook-store.js';
import { toIso } from '../../schemas.js';

/** Shapes of the webhook admin API (docs/webhooks.md); the endpoint secret appears only in the creation answer. */

const iso = (description: string) => Type.String({ format: 'date-time', description });
const isoOrNull = (description: string) => Type.Union([iso(description), Type.Null()]);

export const WebhookEndpointSchema = Type.Object({
  id: Type.String({ description: 'whk_…' }),
  url: Type.String(),
  description: Type.String(),
  events: Type.Array(Type.String(), { description: 'Subscribed event types and prefixes ("session.*", "*")' }),
  created_at: iso('When it was added'),
});

export const WebhookSummarySchema = Type.Composite([
  WebhookEndpointSchema,
  Type.Object({
    deliveries: Type.Object({
      pending: Type.Integer(),
      delivered: Type.Integer(),
      failed: Type.Integer({ description: 'Given up after the last attempt' }),
      last_attempt_at: isoOrNull('Latest attempt of any delivery'),
    }),
  }),
]);

export const NewWebhookBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048, description: 'http(s) URL the events are POSTed to' }),
    events: Type.Array(Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z0-9_.*]+$' }), {
      minItems: 1,
      maxItems: 64,
      description: `Event types, prefixes ("session.*") or "*": ${WEBHOOK_EVENT_TYPES.join(', ')}`,
    }),
    description: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const CreatedWebhookSchema = Type.Object({
  endpoint: WebhookEndpointSchema,
  secret: Type.String({ description: 'whsec_…: the signing secret, shown this once only' }),
});

export const WebhookAttemptSchema = Type.Object({
  attempt: Type.Integer({ description: '1 for the first try' }),
  at: iso('When it was made'),
  status_code: Type.Union([Type.Integer(), Type.Null()], { description: "The receiver's HTTP status; null when none came" }),
  error: Type.Union([Type.String(), Type.Null()]),
  duration_ms: Type.Integer(),
});

export const WebhookDeliverySchema = Type.Object({
  id: Type.String({ description: 'whd_…' }),
  message_id: Type.String({ description: 'The webhook-id header: the same on every retry' }),
  event_id: Type.Union([Type.Integer(), Type.Null()], { description: 'The audit event carried; null for a test message' }),
  event_type: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  next_attempt_at: isoOrNull('When it is next tried (pending only)'),
  created_at: iso('When it was queued'),
  delivered_at: isoOrNull('When the receiver accepted it'),
  last_status_code: Type.Union([Type.Integer(), Type.Null()]),
  last_error: Type.Union([Type.String(), Type.Null()]),
  log: Type.Array(WebhookAttemptSchema),
});

export const webhookEndpointView = (e: WebhookEndpoint) => ({
  id: e.id,
  url: e.url,
  description: e.description,
  events: e.events,
  created_at: toIso(e.createdAt),
});

export const webhookSummaryView = ({ endpoint, counts }: EndpointSummary) => ({
  ...webhookEndpointView(endpoint),
  deliveries: {
    pending: counts.pending,
    delivered: counts.delivered,
    failed: counts.failed,
    last_attempt_at: counts.lastAttemptAt === null ? null : toIso(counts.lastAttemptAt),
  },
});

export const webhookDeliveryView = ({ delivery: d, attempts }: DeliveryLogEntry) => ({
  id: d.id,
  message_id: d.messageId,
  event_id: d.eventId,
  event_type: d.eventType,
  status: d.status,
  attempts: d.attempts,
  next_attempt_at: d.status === 'pending' && d.nextAttemptAt !== null ? toIso(d.nextAttemptAt) : null,
  created_at: toIso(d.createdAt),
  delivered_at: d.deliveredAt === null ? null : toIso(d.deliveredAt),
  last_status_code: d.lastStatusCode,
  last_error: d.lastError,
  log: attempts.map((a) => ({
    attempt: a.attempt,
    at: toIso(a.at),
    status_code: a.statusCode,
    error: a.error,
    duration_ms: a.durationMs,
  })),
});
