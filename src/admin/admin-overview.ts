import type { AuthDeps } from '../auth/deps.js';
import { countryOf, networkOf } from '../core/admin/behaviour-baseline.js';
import { countBy, riskDecisionOf, scoreHistogram, RISK_EVENT_TYPE, type Histogram } from '../core/admin/risk-summary.js';
import {
  SIGN_IN_EVENT_TYPES,
  SIGN_IN_OUTCOMES,
  countedSteps,
  signInOutcomeOf,
  signInsOverTime,
  type SignInOutcome,
  type TimeSeries,
} from '../core/admin/sign-in-outcomes.js';
import type { AuditEvent } from '../store/store.js';

/** The periods the overview can show, each with the bucket width that gives a readable chart. */
export const OVERVIEW_RANGES = {
  '24h': { spanMs: 24 * 3_600_000, bucketMs: 3_600_000 },
  '7d': { spanMs: 7 * 86_400_000, bucketMs: 6 * 3_600_000 },
  '30d': { spanMs: 30 * 86_400_000, bucketMs: 86_400_000 },
} as const;
export type OverviewRange = keyof typeof OVERVIEW_RANGES;

/** How many recent events the top lists and the risk histogram read (newest first). */
const SAMPLE_LIMIT = 5000;

export interface RiskOverview {
  decisions: number;
  histogram: Histogram;
  bands: Array<{ key: string; count: number }>;
  reasons: Array<{ key: string; count: number }>;
}

export interface Overview {
  range: OverviewRange;
  since: number;
  until: number;
  signIns: TimeSeries<SignInOutcome>;
  totals: Record<SignInOutcome, number>;
  activeSessions: number;
  /** Null while no risk.decision event exists in the period: the engine has not decided anything yet. */
  risk: RiskOverview | null;
  countries: Array<{ key: string; count: number }>;
  networks: Array<{ key: string; count: number }>;
  suspicious: AuditEvent[];
}

/** A failed or denied sign-in step, or a risk verdict of high risk (whatever was decided). */
export function isSuspicious(event: AuditEvent): boolean {
  const outcome = signInOutcomeOf(event);
  if (outcome === 'failed' || outcome === 'denied') return true;
  const risk = riskDecisionOf(event);
  if (risk) return event.outcome === 'failure' || /deny/.test(risk.decision) || /high|critical/.test(risk.band);
  return event.outcome === 'failure' && event.type === 'session.step_up';
}

export async function adminOverview(deps: AuthDeps, range: OverviewRange): Promise<Overview> {
  const { spanMs, bucketMs } = OVERVIEW_RANGES[range];
  // Whole buckets, the last one holding now: a 24h overview is 24 hourly bars.
  const until = (Math.floor(deps.clock.now() / bucketMs) + 1) * bucketMs;
  const since = until - spanMs;
  const [tallies, activeSessions, riskEvents, signInEvents] = await Promise.all([
    deps.store.admin.tallyEvents({ types: SIGN_IN_EVENT_TYPES, since, until, bucketMs }),
    deps.store.admin.countActiveSessions(deps.clock.now()),
    deps.store.admin.searchEvents({ types: [RISK_EVENT_TYPE], since, until, limit: SAMPLE_LIMIT }),
    deps.store.admin.searchEvents({ types: SIGN_IN_EVENT_TYPES, since, until, limit: SAMPLE_LIMIT }),
  ]);
  const signIns = signInsOverTime(tallies, since, until, bucketMs);
  const totals = Object.fromEntries(SIGN_IN_OUTCOMES.map((o) => [o, signIns.series[o].reduce((a, b) => a + b, 0)])) as Record<
    SignInOutcome,
    number
  >;
  const decisions = riskEvents.map(riskDecisionOf).filter((d) => d !== null);
  const risk: RiskOverview | null = decisions.length
    ? {
        decisions: decisions.length,
        histogram: scoreHistogram(decisions.map((d) => d.score)),
        bands: countBy(decisions, (d) => d.band),
        reasons: countBy(
          decisions.flatMap((d) => d.reasons),
          (r) => r,
        ),
      }
    : null;
  return {
    range,
    since,
    until,
    signIns,
    totals,
    activeSessions,
    risk,
    countries: countBy(signInEvents, (e) => countryOf(e.detail)),
    networks: countBy(countedSteps(signInEvents), (e) => (e.ip ? networkOf(e.ip) : null)),
    suspicious: signInEvents.filter(isSuspicious).slice(0, 20),
  };
}
