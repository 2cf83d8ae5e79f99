import { subscribesTo } from '../core/webhooks/security-events.js';
import { webhookPayload } from '../core/webhooks/payload.js';
import { newRecordId } from '../core/ids.js';
import type { RandomBytes } from '../core/random.js';
import type { Store } from '../store/store.js';

/** msg_…: one per event, shared by its deliveries to every endpoint, and the same on every retry. */
export const newMessageId = (random: RandomBytes): string => newRecordId('msg', random);
export const newDeliveryId = (random: RandomBytes): string => newRecordId('whd', random);

/**
 * Wraps a store so that every audit event appended, whichever use case appends it (recordEvent, the
 * risk service's notifications), also queues one delivery per endpoint subscribed to its type, in
 * the same transaction as the event: the outbox pattern, so a crash or a receiver outage loses
 * nothing that was recorded. The worker (delivery-worker.ts) sends them later.
 *
 * Applied to the raw store, beneath the wrappers that count events or send mail, so theirs run on top.
 * An endpoint added while an event is being recorded may or may not receive that event; one removed
 * meanwhile leaves a delivery the worker drops.
 */
export function withWebhookOutbox(store: Store, random: RandomBytes): Store {
  const { events, webhooks } = store;
  return {
    ...store,
    events: {
      ...events,
      async append(event) {
        const subscribed = (await webhooks.listEndpoints()).filter((endpoint) => subscribesTo(endpoint.events, event.type));
        if (subscribed.length === 0) {
          await events.append(event);
          return;
        }
        const messageId = newMessageId(random);
        await webhooks.appendEventWithDeliveries(event, (eventId) => {
          const payload = JSON.stringify(webhookPayload(event, eventId));
          return subscribed.map((endpoint) => ({
            id: newDeliveryId(random),
            endpointId: endpoint.id,
            messageId,
            eventId,
            eventType: event.type,
            payload,
            createdAt: event.at,
          }));
        });
      },
    },
  };
}
