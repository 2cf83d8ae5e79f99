/**
 * The body of a webhook, in the Standard Webhooks shape `{type, timestamp, data}`. `data` carries
 * ids and outcomes only: which user, which session, what happened and why. Event detail passes
 * through an allowlist of keys known to hold no secret, so a detail field added later for the audit
 * trail does not leave the system unless it is added here on purpose.
 */

/** Detail keys that carry no secret (ids, verdicts, counts), with the events that set them. */
const SAFE_DETAIL_KEYS = new Set([
  // session.created, session.step_up
  'kind',
  'aal',
  'amr',
  'method',
  // risk.decision
  'score',
  'band',
  'decision',
  'reasons',
  'model',
  'trusted_device',
  'enforced',
  'next',
  'country',
  // session.revoked (several at once)
  'count',
  // token.theft_detected: the family's id, never a token
  'family',
  'first_used_at',
  // session.hijack_suspected, session.context_changed
  'session_ip',
  'action',
  // device.remembered: the record's id
  'device',
  'expires_at',
]);

export interface PayloadSource {
  type: string;
  at: number;
  outcome: string;
  userId: string | null;
  sessionId: string | null;
  ip: string | null;
  reason: string | null;
  detail: Record<string, unknown> | null;
}

export interface WebhookPayload {
  type: string;
  /** When the event happened (ISO 8601), not when this attempt is made. */
  timestamp: string;
  data: Record<string, unknown>;
}

type Plain = string | number | boolean | null;
const isPlain = (value: unknown): value is Plain =>
  value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));

function safeDetail(detail: Record<string, unknown> | null): Record<string, Plain | Plain[]> {
  const kept: Record<string, Plain | Plain[]> = {};
  for (const [key, value] of Object.entries(detail ?? {})) {
    if (!SAFE_DETAIL_KEYS.has(key)) continue;
    if (isPlain(value)) kept[key] = value;
    else if (Array.isArray(value) && value.every(isPlain)) kept[key] = value;
  }
  return kept;
}

/** The payload for one audit event; `eventId` is its id in the audit trail (GET /api/v1/admin/events). */
export function webhookPayload(event: PayloadSource, eventId: number | null): WebhookPayload {
  return {
    type: event.type,
    timestamp: new Date(event.at).toISOString(),
    data: {
      event_id: eventId,
      outcome: event.outcome,
      user_id: event.userId,
      session_id: event.sessionId,
      reason: event.reason,
      ip: event.ip,
      detail: safeDetail(event.detail),
    },
  };
}

/** The payload of `webhooks test`: lets an operator check reachability and signature verification. */
export function testPayload(endpointId: string, at: number): WebhookPayload {
  return { type: 'webhook.test', timestamp: new Date(at).toISOString(), data: { endpoint_id: endpointId } };
}
