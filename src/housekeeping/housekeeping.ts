import { setImmediate as nextTurn } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import type { AuthDeps } from '../auth/deps.js';

/** Rows deleted by one pass, per kind. */
export interface HousekeepingReport {
  sessions: number;
  pendingLogins: number;
  webauthnChallenges: number;
  webhookDeliveries: number;
}

/** Rows per statement: small enough that one batch holds SQLite's connection for milliseconds, not seconds. */
const BATCH = 500;
/** Sign-in challenges and passkey ceremonies are useless once expired; an hour's grace keeps the fresh ones for a look. */
const EXPIRED_GRACE_MS = 60 * 60_000;

type Deps = Pick<AuthDeps, 'store' | 'clock' | 'config'>;

/**
 * One pass: deletes, batch after batch, what ended before each kind's cut-off, yielding to the
 * event loop between batches so checks keep being answered. Idempotent, so every node may run it:
 * two nodes at once only share the work. The audit log (events) is never deleted here.
 */
export async function runHousekeeping(deps: Deps, options: { batch?: number } = {}): Promise<HousekeepingReport> {
  const batch = options.batch ?? BATCH;
  const now = deps.clock.now();
  const { keepSessionsMs, keepWebhookDeliveriesMs } = deps.config.housekeeping;
  const store = deps.store.housekeeping;
  const drain = async (remove: (before: number, limit: number) => Promise<number>, before: number): Promise<number> => {
    let total = 0;
    for (;;) {
      const removed = await remove(before, batch);
      total += removed;
      if (removed < batch) return total;
      await nextTurn();
    }
  };
  return {
    sessions: await drain((before, limit) => store.deleteSessionsExpiredBefore(before, limit), now - keepSessionsMs),
    pendingLogins: await drain((before, limit) => store.deletePendingLoginsExpiredBefore(before, limit), now - EXPIRED_GRACE_MS),
    webauthnChallenges: await drain((before, limit) => store.deleteWebAuthnChallengesExpiredBefore(before, limit), now - EXPIRED_GRACE_MS),
    webhookDeliveries: await drain(
      (before, limit) => store.deleteFinishedWebhookDeliveriesBefore(before, limit),
      now - keepWebhookDeliveriesMs,
    ),
  };
}

interface HousekeepingLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/**
 * Runs a pass every housekeeping.interval while the server runs (0: never in this node). The first
 * comes a random part of the interval after start, so nodes started together do not run together.
 */
export function housekeeping(app: FastifyInstance, deps: Deps, log: HousekeepingLog = app.log): void {
  const intervalMs = deps.config.housekeeping.intervalMs;
  if (intervalMs === 0) return;
  let timer: NodeJS.Timeout | null = null;
  let pass: Promise<void> | null = null;
  let stopped = false;
  const schedule = (delayMs: number): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      pass = runHousekeeping(deps)
        .then((report) => {
          if (Object.values(report).some((n) => n > 0)) log.info({ deleted: report }, 'housekeeping: deleted rows that ended long ago');
        })
        .catch((err: Error) => log.warn({ error: err.message }, 'housekeeping pass failed; the next one tries again'))
        .finally(() => {
          pass = null;
          schedule(intervalMs);
        });
    }, delayMs);
    timer.unref();
  };
  app.addHook('onReady', async () => schedule(Math.floor(Math.random() * Math.min(intervalMs, 10 * 60_000))));
  app.addHook('onClose', async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await pass;
  });
}
