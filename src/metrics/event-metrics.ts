import type { Store } from '../store/store.js';
import type { Metrics } from './metrics.js';

/**
 * Wraps a store so every audit event appended, whichever use case appends it, is also counted:
 * the one place events are written is the one place they are measured.
 */
export function withEventMetrics(store: Store, metrics: Metrics): Store {
  const { events } = store;
  return {
    ...store,
    events: {
      ...events,
      async append(event) {
        await events.append(event);
        metrics.observeEvent(event);
      },
    },
  };
}
