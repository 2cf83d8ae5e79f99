import type { AuditEvent } from './store.js';

/** A receiver of signed security events, registered by an administrator (docs/webhooks.md). */
export interface WebhookEndpoint {
  /** whk_… */
  id: string;
  url: string;
  description: string;
  /** Subscribed types and prefixes ("session.revoked", "login.*", "*"). */
  events: string[];
  /** The whsec_ secret sealed with SecretBox, the endpoint id as associated data. */
  secretSealed: string;
  createdAt: number;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One message for one endpoint, queued in the outbox until delivered or given up. */
export interface WebhookDelivery {
  /** whd_… */
  id: string;
  endpointId: string;
  /** msg_…: the webhook-id header, the same on every retry (receivers dedupe on it). */
  messageId: string;
  /** The audit event it carries; null for a test message. */
  eventId: number | null;
  eventType: string;
  /** The JSON body, exactly as sent and signed on every attempt. */
  payload: string;
  status: DeliveryStatus;
  attempts: number;
  /** When it is next due; while a worker holds it, the end of that worker's lease. Null once done. */
  nextAttemptAt: number | null;
  createdAt: number;
  deliveredAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
}

export type NewWebhookDelivery = Pick<
  WebhookDelivery,
  'id' | 'endpointId' | 'messageId' | 'eventId' | 'eventType' | 'payload' | 'createdAt'
>;

/** One try: what the receiver answered, or why there was no answer. */
export interface WebhookAttempt {
  deliveryId: string;
  endpointId: string;
  /** 1 for the first try. */
  attempt: number;
  at: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/** What follows an attempt. */
export type DeliveryOutcome = { status: 'delivered' } | { status: 'pending'; nextAttemptAt: number } | { status: 'failed' };

export interface DeliveryCounts {
  pending: number;
  delivered: number;
  failed: number;
  lastAttemptAt: number | null;
}

export interface WebhookStore {
  addEndpoint(endpoint: WebhookEndpoint): Promise<void>;
  listEndpoints(): Promise<WebhookEndpoint[]>;
  findEndpoint(id: string): Promise<WebhookEndpoint | undefined>;
  /** Removes the endpoint with its queued deliveries and their log; false when there is no such endpoint. */
  removeEndpoint(id: string): Promise<boolean>;
  /**
   * The audit event and its deliveries in one transaction: either both are stored or neither, so an
   * event once recorded is never missing from the outbox. `deliveries` receives the event's id.
   */
  appendEventWithDeliveries(event: AuditEvent, deliveries: (eventId: number) => NewWebhookDelivery[]): Promise<void>;
  /**
   * Queues a delivery already claimed by the caller (a test message sent at once): no worker can
   * take it before the caller's attempt, and if the caller dies its lease runs out like any other.
   */
  enqueueClaimed(delivery: NewWebhookDelivery, leaseUntil: number, leaseToken: string): Promise<WebhookDelivery>;
  /** Pending deliveries due at `now`, oldest due first: candidates to claim. */
  listDue(now: number, limit: number): Promise<Array<{ id: string; nextAttemptAt: number }>>;
  /**
   * The lease: takes a due delivery only if it is still pending and still due at `dueAt` (nobody
   * claimed it meanwhile), moving it to `leaseUntil`, counting the attempt and recording the
   * token. Of two workers racing for one row, exactly one gets it (the update's WHERE decides).
   */
  claim(id: string, dueAt: number, leaseUntil: number, leaseToken: string): Promise<WebhookDelivery | undefined>;
  /** Logs the attempt and, if the lease is still this worker's, records its outcome. False when the lease was lost. */
  finish(id: string, leaseToken: string, attempt: WebhookAttempt, outcome: DeliveryOutcome): Promise<boolean>;
  /** The endpoint's deliveries, newest first. */
  listDeliveries(endpointId: string, limit: number): Promise<WebhookDelivery[]>;
  findDelivery(id: string): Promise<WebhookDelivery | undefined>;
  /** Every attempt of these deliveries, in order. */
  listAttempts(deliveryIds: string[]): Promise<WebhookAttempt[]>;
  /** Deliveries by status per endpoint id, and the time of the last attempt. */
  countDeliveries(): Promise<Map<string, DeliveryCounts>>;
}
