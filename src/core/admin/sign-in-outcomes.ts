/**
 * Sign-in attempts as an operator reads them, from the audit trail's step events:
 * - success: a session was granted (second factor accepted, or no second factor needed);
 * - second_factor_asked: the password was right and a second factor (or its enrollment) was asked;
 * - denied: refused although the password was right (disabled account, the risk engine);
 * - failed: a wrong password or code, or an unknown account.
 *
 * An accepted password is judged twice: `login.password` records what the policy wants next, and
 * when the risk engine runs, its `risk.decision` records what really happened next (it may skip the
 * second factor or deny). Where risk verdicts exist they are the password step's outcome, and the
 * `login.password` successes beside them are not counted again.
 */
export type SignInOutcome = 'success' | 'second_factor_asked' | 'denied' | 'failed';

export const SIGN_IN_OUTCOMES: readonly SignInOutcome[] = ['success', 'second_factor_asked', 'denied', 'failed'];

/** The event types the classification reads. */
export const SIGN_IN_EVENT_TYPES = ['login.password', 'login.second_factor', 'risk.decision'];

export interface StepEvent {
  type: string;
  outcome: string;
  reason: string | null;
  detail: Record<string, unknown> | null;
}

const DENIAL_REASONS = /disabled|denied|blocked|risk|locked|policy/;

/** What came after an accepted password, as recorded in `detail.next`. */
function afterPassword(next: unknown): SignInOutcome {
  if (next === 'authenticated') return 'success';
  if (next === 'denied') return 'denied';
  return 'second_factor_asked';
}

/** A risk verdict on an accepted password (it carries `detail.next`). */
export const isRiskVerdict = (event: StepEvent): boolean => event.type === 'risk.decision' && typeof event.detail?.next === 'string';

/** An accepted password as the policy saw it, before any risk verdict. */
const isPolicyVerdict = (event: StepEvent): boolean => event.type === 'login.password' && event.outcome === 'success';

/** Null for events that are not a sign-in step. */
export function signInOutcomeOf(event: StepEvent): SignInOutcome | null {
  switch (event.type) {
    case 'login.password':
      if (event.outcome === 'failure') return event.reason && DENIAL_REASONS.test(event.reason) ? 'denied' : 'failed';
      return afterPassword(event.detail?.next);
    case 'login.second_factor':
      if (event.outcome === 'failure') return event.reason && DENIAL_REASONS.test(event.reason) ? 'denied' : 'failed';
      return 'success';
    case 'risk.decision':
      return isRiskVerdict(event) ? afterPassword(event.detail!.next) : null;
    default:
      return null;
  }
}

/** The events to count: policy verdicts are dropped when risk verdicts exist among them. */
export function countedSteps<E extends StepEvent>(events: E[]): E[] {
  const riskJudged = events.some(isRiskVerdict);
  return events.filter((e) => signInOutcomeOf(e) !== null && !(riskJudged && isPolicyVerdict(e)));
}

export interface TimeSeries<K extends string> {
  /** Bucket start times (ms), evenly spaced, oldest first. */
  buckets: number[];
  series: Record<K, number[]>;
}

/** Counts per outcome per bucket over [since, until), every bucket present (zero when quiet). */
export function signInsOverTime(
  tallies: Array<StepEvent & { bucketStart: number; count: number }>,
  since: number,
  until: number,
  bucketMs: number,
): TimeSeries<SignInOutcome> {
  const first = since - (since % bucketMs);
  const buckets: number[] = [];
  for (let t = first; t < until; t += bucketMs) buckets.push(t);
  const series = Object.fromEntries(SIGN_IN_OUTCOMES.map((o) => [o, buckets.map(() => 0)])) as Record<SignInOutcome, number[]>;
  // The rule above, per bucket: a password and its risk verdict are written in the same request.
  const riskJudged = new Set(tallies.filter(isRiskVerdict).map((t) => t.bucketStart));
  for (const tally of tallies) {
    const outcome = signInOutcomeOf(tally);
    if (!outcome || (isPolicyVerdict(tally) && riskJudged.has(tally.bucketStart))) continue;
    const index = Math.floor((tally.bucketStart - first) / bucketMs);
    if (index >= 0 && index < buckets.length) series[outcome][index]! += tally.count;
  }
  return { buckets, series };
}
