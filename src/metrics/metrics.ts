import { Counter, Gauge, Registry } from 'prom-client';
import { riskDecisionOf, RISK_EVENT_TYPE } from '../core/admin/risk-summary.js';
import { signInOutcomeOf } from '../core/admin/sign-in-outcomes.js';
import type { AuditEvent } from '../store/store.js';
import { HotHistogram } from './validation-histogram.js';

/** What a validation concluded, by the status it answered with. */
export type ValidationResult = 'allowed' | 'redirected' | 'unauthenticated' | 'denied' | 'error';
export type ValidationKind = 'forward_auth' | 'api';

const VALIDATION_KINDS: readonly ValidationKind[] = ['forward_auth', 'api'];
const VALIDATION_RESULTS: readonly ValidationResult[] = ['allowed', 'redirected', 'unauthenticated', 'denied', 'error'];

/**
 * twofold's Prometheus metrics, one registry per running instance (tests start several). Sign-ins
 * and risk decisions are counted from the audit events as they are appended, so the metrics and
 * the audit trail cannot disagree; validations and rate-limit hits from HTTP answers.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly signIns = new Counter({
    name: 'twofold_sign_ins_total',
    help: 'Sign-in steps by outcome (success, second_factor_asked, denied, failed) and method (password, totp, recovery_code)',
    labelNames: ['outcome', 'method'] as const,
    registers: [this.registry],
  });

  readonly riskDecisions = new Counter({
    name: 'twofold_risk_decisions_total',
    help: 'Decisions of the risk engine by band and decision',
    labelNames: ['band', 'decision'] as const,
    registers: [this.registry],
  });

  readonly auditEvents = new Counter({
    name: 'twofold_audit_events_total',
    help: 'Audit events appended, by type and outcome',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });

  /** Series index = kind index × results + result index (see observeValidation). */
  readonly validations = new HotHistogram(
    'twofold_validation_duration_seconds',
    'Session validations (forward-auth and authenticated API requests): answer time by kind and result',
    VALIDATION_KINDS.flatMap((kind) => VALIDATION_RESULTS.map((result) => ({ kind, result }))),
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    this.registry,
  );

  readonly webhookAttempts = new Counter({
    name: 'twofold_webhook_attempts_total',
    help: 'Webhook delivery attempts by result: delivered, retry (scheduled again) or failed (given up)',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly rateLimitHits = new Counter({
    name: 'twofold_rate_limit_hits_total',
    help: 'Requests refused with 429 by the brute-force throttles, by route',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });

  private readonly passwordStepsJudgedByRisk: boolean;

  constructor(
    options: {
      /** Counted at scrape time. */
      activeSessions?: () => Promise<number>;
      /**
       * The risk engine judges every accepted password and records the outcome (`risk.decision`,
       * detail.next): count those, not the `login.password` successes before them.
       */
      passwordStepsJudgedByRisk?: boolean;
    } = {},
  ) {
    this.passwordStepsJudgedByRisk = options.passwordStepsJudgedByRisk ?? false;
    const { activeSessions } = options;
    if (activeSessions) {
      new Gauge({
        name: 'twofold_active_sessions',
        help: 'Sessions neither revoked nor expired (counted at scrape time)',
        registers: [this.registry],
        async collect() {
          this.set(await activeSessions());
        },
      });
    }
  }

  /** Called for every appended audit event. */
  observeEvent(event: AuditEvent): void {
    this.auditEvents.inc({ type: event.type, outcome: event.outcome });
    if (event.type === RISK_EVENT_TYPE) {
      const decision = riskDecisionOf(event);
      this.riskDecisions.inc({ band: decision?.band ?? 'unknown', decision: decision?.decision ?? 'unknown' });
      if (!this.passwordStepsJudgedByRisk) return;
    } else if (this.passwordStepsJudgedByRisk && event.type === 'login.password' && event.outcome === 'success') return;
    const outcome = signInOutcomeOf(event);
    if (!outcome) return;
    const method =
      event.type === 'login.second_factor' ? (typeof event.detail?.method === 'string' ? event.detail.method : 'unknown') : 'password';
    this.signIns.inc({ outcome, method });
  }

  /** The hot path: an index computed from two small numbers, then one allocation-free observation. */
  observeValidation(kind: ValidationKind, statusCode: number, seconds: number): void {
    this.validations.observe((kind === 'forward_auth' ? 0 : 1) * VALIDATION_RESULTS.length + resultIndex(statusCode), seconds);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

function resultIndex(status: number): number {
  if (status < 300) return 0;
  if (status < 400) return 1;
  if (status === 401) return 2;
  if (status < 500) return 3;
  return 4;
}
