import type { Config } from '../../config.js';
import type { DeviceCookie } from '../../context/device-cookie.js';
import { GeoIp } from '../../context/geoip.js';
import type { Clock } from '../../core/clock.js';
import { RiskEngine } from '../../core/risk/engine.js';
import type { LoginContext } from '../../core/risk/context.js';
import type { RiskBand, RiskDecision } from '../../core/risk/policy.js';
import type { SessionOrigin } from '../../core/session/session.js';
import type { AuditEvent, Store } from '../../store/store.js';
import { Outbox, type Mail } from '../notifications/outbox.js';

/** What the password step decided, kept for the second-factor step of the same sign-in. */
export interface PendingRisk {
  login: LoginContext;
  /** Undefined while the user has too little history for risk to act (risk_policy.min_history). */
  band?: RiskBand;
  decision: RiskDecision;
  /** 'webauthn': a high-risk sign-in may only be completed with a passkey. */
  required: 'any' | 'webauthn';
  expiresAt: number;
  /** The device cookie the password step saw or made (memory only, never stored). */
  device?: DeviceCookie;
  /** What the session will record of this sign-in (country, network, band, score). */
  origin?: SessionOrigin;
}

const PAGE = 5000;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * The risk engine of this node, fed from the store. At start it learns every retained sign-in;
 * afterwards it learns this node's own sign-ins as they happen (each is also written to the store).
 * Several nodes therefore each know the store's history as of their start plus their own sign-ins
 * since (docs/risk.md, "Several nodes").
 */
export class RiskService {
  readonly engine: RiskEngine;
  /** Pending sign-ins' assessments, by pending-login id; another node's second step re-assesses. */
  private readonly pending = new Map<string, PendingRisk>();
  private pruneTimer: NodeJS.Timeout | null = null;
  private readiness: Promise<GeoIp> | null = null;

  private constructor(
    private readonly config: Config,
    private readonly clock: Clock,
    private readonly store: Store,
    /** Security emails; null when SMTP is not configured. */
    readonly outbox: Outbox | null,
  ) {
    this.engine = new RiskEngine({ model: config.risk.model, thresholds: config.risk.thresholds, retention: config.risk.retention });
  }

  /**
   * Cheap: nothing is read until ready() (the server calls it when it starts listening; a CLI
   * command that never signs anyone in never loads the geo databases or the history).
   */
  static async start(config: Config, clock: Clock, store: Store, audit: (event: AuditEvent) => Promise<void>): Promise<RiskService> {
    const outbox = config.smtp
      ? new Outbox(config.smtp, async (mail, outcome) => {
          await audit({
            at: clock.now(),
            type: outcome.ok ? 'notification.sent' : 'notification.failed',
            outcome: outcome.ok ? 'success' : 'failure',
            userId: mail.userId as AuditEvent['userId'],
            sessionId: null,
            ip: null,
            userAgent: null,
            reason: outcome.ok ? null : outcome.error,
            detail: { kind: mail.kind, channel: 'email' },
          });
        })
      : null;
    return new RiskService(config, clock, store, outbox);
  }

  /** Opens the geo databases and learns the retained history, once; every sign-in awaits it. */
  ready(): Promise<GeoIp> {
    this.readiness ??= (async () => {
      const geo = await GeoIp.open(this.config.geoip);
      await this.loadHistory(this.store);
      this.pruneTimer = setInterval(() => {
        const now = this.clock.now();
        this.engine.prune(now);
        void this.store.loginHistory.prune(now - this.config.risk.retention.retentionMs).catch(() => undefined);
        for (const [id, risk] of this.pending) if (risk.expiresAt <= now) this.pending.delete(id);
      }, PRUNE_EVERY_MS);
      this.pruneTimer.unref();
      return geo;
    })();
    this.readiness.catch(() => {
      this.readiness = null;
    });
    return this.readiness;
  }

  /** Learns every retained sign-in from the store, oldest first; returns how many. */
  async loadHistory(store: Store): Promise<number> {
    const since = this.clock.now() - this.config.risk.retention.retentionMs;
    let loaded = 0;
    for (let after = 0; ;) {
      const page = await store.loginHistory.listSince(since, after, PAGE);
      for (const row of page) this.engine.recordSuccess(row.login);
      loaded += page.length;
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.id;
    }
    this.engine.prune(this.clock.now());
    return loaded;
  }

  rememberPending(pendingId: string, risk: PendingRisk): void {
    this.pending.set(pendingId, risk);
  }

  /** The assessment of a pending sign-in, used up by its completion. */
  takePending(pendingId: string): PendingRisk | undefined {
    const risk = this.pending.get(pendingId);
    if (risk && risk.expiresAt <= this.clock.now()) {
      this.pending.delete(pendingId);
      return undefined;
    }
    return risk;
  }

  forgetPending(pendingId: string): void {
    this.pending.delete(pendingId);
  }

  mail(mail: Mail): void {
    this.outbox?.enqueue(mail);
  }

  async close(): Promise<void> {
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    await this.outbox?.close();
  }
}
