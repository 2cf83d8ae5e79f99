import type { FastifyInstance } from 'fastify';
import type { AuthDeps } from '../auth/deps.js';
import { newSecretToken } from '../core/ids.js';
import { attemptDelivery, leaseUntil } from './deliver.js';

interface WorkerLog {
  warn(obj: object, msg: string): void;
}

/** Deliveries claimed per round; they are sent concurrently, so one slow receiver does not hold up the rest. */
const BATCH = 10;

/**
 * Sends due deliveries from the outbox. Every node may run one: a delivery is claimed with a
 * conditional update before it is sent (WebhookStore.claim), so two nodes never hold the same row at
 * once. Delivery is at-least-once: a node that stops between sending and recording the outcome
 * leaves the row to be sent again once its lease ends, and receivers drop duplicates by webhook-id.
 */
export class DeliveryWorker {
  private timer: NodeJS.Timeout | null = null;
  private round: Promise<void> | null = null;
  private stopped = true;
  /** Deliveries this process is sending now (a lease cannot expire under its own holder's feet). */
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly deps: AuthDeps,
    private readonly log: WorkerLog,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops looking for work and waits for the attempts in progress (each bounded by webhooks.timeout). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.round;
  }

  /** One round: claims what is due and sends it; returns how many were attempted. */
  async runOnce(): Promise<number> {
    const { webhooks } = this.deps.store;
    const now = this.deps.clock.now();
    const due = (await webhooks.listDue(now, BATCH)).filter((d) => !this.inFlight.has(d.id));
    const attempts: Array<Promise<void>> = [];
    for (const candidate of due) {
      const token = newSecretToken(this.deps.random);
      const delivery = await webhooks.claim(candidate.id, candidate.nextAttemptAt, leaseUntil(this.deps, now), token);
      if (!delivery) continue; // another node took it
      this.inFlight.add(delivery.id);
      attempts.push(
        attemptDelivery(this.deps, delivery, token)
          .then(({ attempt, outcome }) => {
            if (outcome.status === 'failed') {
              this.log.warn(
                { delivery: delivery.id, endpoint: delivery.endpointId, attempts: attempt.attempt, error: attempt.error },
                'webhook delivery given up',
              );
            }
          })
          .finally(() => this.inFlight.delete(delivery.id)),
      );
    }
    // Settled, not all: a store error in one attempt must not leave the others running unawaited (stop()).
    const results = await Promise.allSettled(attempts);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return attempts.length;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.round = this.runOnce()
        .catch((err: Error) => {
          // The store unreachable (PostgreSQL restarting): try again next round.
          this.log.warn({ error: err.message }, 'webhook delivery round failed');
          return 0;
        })
        .then((attempted) => {
          this.round = null;
          // A full batch means a backlog: go on at once rather than after the poll interval.
          if (this.timer === null) this.schedule(attempted >= BATCH ? 0 : this.deps.config.webhooks.pollIntervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }
}

/** Runs the delivery worker with the server (webhooks.deliver): started when it is ready, stopped on close. */
export function webhookDelivery(app: FastifyInstance, deps: AuthDeps): void {
  if (!deps.config.webhooks.deliver) return;
  const worker = new DeliveryWorker(deps, app.log);
  app.addHook('onReady', async () => worker.start());
  app.addHook('onClose', async () => worker.stop());
}
