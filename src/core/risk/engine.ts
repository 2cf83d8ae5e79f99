import { Level, featureKeys, type FeatureKeys, type LoginContext } from './context.js';
import { freemanScore } from './freeman.js';
import { DEFAULT_RETENTION, LoginHistory, type RetentionLimits, type UserView } from './history.js';
import { atLeast, bandOf, decide, type DecisionOptions, type RiskBand, type RiskDecision, type RiskThresholds } from './policy.js';
import { SignalStats } from './signal-stats.js';
import {
  DEFAULT_SIGNAL_SETTINGS,
  NO_BAD_NETWORKS,
  observeSignals,
  type BadNetworks,
  type SignalObservations,
  type SignalSettings,
} from './signals.js';
import { DEFAULT_TWOFOLD_SETTINGS, topReasons, twofoldScore, type RiskReason, type TwofoldModelSettings } from './twofold-model.js';
import { FailureWindows } from './velocity.js';

export type RiskModelName = 'freeman' | 'twofold';

export interface RiskEngineOptions {
  model: RiskModelName;
  thresholds: RiskThresholds;
  retention?: RetentionLimits;
  signals?: SignalSettings;
  twofold?: TwofoldModelSettings;
  badNetworks?: BadNetworks;
}

/**
 * Default band boundaries, read off the simulated data set (docs/risk.md): `medium` sits where
 * about 99% of targeted attacks score at or above it; `high` and `very_high` where fewer than
 * about 1% and 0.1% of legitimate sign-ins reach.
 */
export const DEFAULT_THRESHOLDS: Record<RiskModelName, RiskThresholds> = {
  freeman: { medium: -2.5, high: 0.7, veryHigh: 2 },
  twofold: { medium: -1.6, high: 1, veryHigh: 2.5 },
};

/** The reason shown when a suspected passkey clone raised the band. */
export const CLONE_REASON = 'passkey clone suspected';

export interface RiskAssessment {
  /** log10 likelihood ratio attacker : this user; higher is riskier. */
  score: number;
  band: RiskBand;
  decision: RiskDecision;
  /** The top reasons in plain words ("new device", "country never seen for this user (NO)"). */
  reasons: string[];
  /** Every factor with its weight, for logs and the admin console. */
  factors: RiskReason[];
  /** The model's own band when an outside observation (a suspected passkey clone) raised it. */
  raisedFrom?: RiskBand;
}

/**
 * The risk engine over an in-memory history: assess a sign-in, then tell it what happened
 * (recordSuccess / recordFailure). Pure: time comes from each context's `at`, nothing is read or
 * written outside this object. The integration layer keeps it fed from the store at start.
 */
export class RiskEngine {
  readonly history: LoginHistory;
  readonly stats = new SignalStats();
  /** Failed passwords per account and per IP address, kept apart so the raw ids are the keys. */
  readonly accountFailures: FailureWindows;
  readonly ipFailures: FailureWindows;
  private readonly signalSettings: SignalSettings;
  private readonly twofoldSettings: TwofoldModelSettings;
  private readonly badNetworks: BadNetworks;

  constructor(readonly options: RiskEngineOptions) {
    this.history = new LoginHistory(options.retention ?? DEFAULT_RETENTION);
    this.signalSettings = options.signals ?? DEFAULT_SIGNAL_SETTINGS;
    this.twofoldSettings = options.twofold ?? DEFAULT_TWOFOLD_SETTINGS;
    this.badNetworks = options.badNetworks ?? NO_BAD_NETWORKS;
    this.accountFailures = new FailureWindows(this.signalSettings.failureWindowMs);
    this.ipFailures = new FailureWindows(this.signalSettings.failureWindowMs);
  }

  /**
   * The features and signal observations of the context scored last, so that learning it right
   * after (replay, sign-in) does not compute them again. Any change to the state clears it.
   */
  private scored: { ctx: LoginContext; keys: FeatureKeys; observed: SignalObservations } | undefined;

  /** The score alone (no reason texts). */
  score(ctx: LoginContext): number {
    return this.assessFactors(ctx, false).score;
  }

  /** Score and band without reason texts (replay's hot path). */
  scoreAndBand(ctx: LoginContext): { score: number; band: RiskBand } {
    const { score, factors } = this.assessFactors(ctx, false);
    return { score, band: this.bandFor(ctx, score, factors) };
  }

  assess(ctx: LoginContext, decision: DecisionOptions = {}): RiskAssessment {
    const { score, factors } = this.assessFactors(ctx, true);
    // An observation from outside the model (a suspected passkey clone) sets a floor, and says so first.
    const modelBand = this.bandFor(ctx, score, factors);
    const band = decision.cloneSuspected ? atLeast(modelBand, 'high') : modelBand;
    const reasons = topReasons(factors);
    if (decision.cloneSuspected) reasons.unshift(CLONE_REASON);
    const assessment: RiskAssessment = { score, band, decision: decide(band, decision), reasons, factors };
    if (band !== modelBand) assessment.raisedFrom = modelBand;
    return assessment;
  }

  /**
   * A user's first sign-in has nothing to compare with, and the account prior alone,
   * log10(1 + N/|U|), would put it in a high band on a busy service. It is therefore banded on the
   * rest of the evidence (failure bursts, block lists), and never below medium: a second factor.
   */
  private bandFor(ctx: LoginContext, score: number, factors: readonly RiskReason[]): RiskBand {
    const thresholds = this.options.thresholds;
    if (this.history.user(ctx.userId).logins > 0) return bandOf(score, thresholds);
    const prior = factors.find((f) => f.code === 'account_history')?.weight ?? 0;
    return bandOf(Math.max(score - prior, thresholds.medium), thresholds);
  }

  /** Learns a successful (legitimate) sign-in into the history and the signal evidence. */
  recordSuccess(ctx: LoginContext): void {
    const cached = this.scored?.ctx === ctx ? this.scored : undefined;
    this.scored = undefined;
    const keys = cached?.keys ?? featureKeys(ctx);
    if (this.options.model === 'twofold') {
      this.stats.learn(cached?.observed ?? this.observe(ctx, keys[Level.device], this.history.user(ctx.userId)));
    }
    this.history.add(ctx, keys);
  }

  /** Counts a failed password for the account and the IP address. */
  recordFailure(ctx: LoginContext): void {
    this.scored = undefined;
    this.accountFailures.record(ctx.userId, ctx.at);
    this.ipFailures.record(ctx.ip, ctx.at);
  }

  /** Applies the retention window to everyone and drops idle failure windows. */
  prune(now: number): void {
    this.scored = undefined;
    this.history.prune(now);
    this.accountFailures.prune(now);
    this.ipFailures.prune(now);
  }

  private assessFactors(ctx: LoginContext, explain: boolean): { score: number; factors: RiskReason[] } {
    const user = this.history.user(ctx.userId);
    const keys = featureKeys(ctx);
    if (this.options.model === 'freeman') {
      this.scored = { ctx, keys, observed: undefined as never };
      const result = freemanScore(ctx, user, this.history.global, keys);
      const factors: RiskReason[] = result.terms.map((t) => ({
        code: t.feature,
        text: `${t.feature} likelihood ratio`,
        weight: t.logRatio,
      }));
      factors.push({ code: 'account_history', text: 'few sign-ins on record for this account', weight: result.userTerm });
      return { score: result.score, factors };
    }
    const observed = this.observe(ctx, keys[Level.device], user);
    this.scored = { ctx, keys, observed };
    const result = twofoldScore(ctx, user, this.history.global, observed, this.stats, this.twofoldSettings, keys, explain);
    return { score: result.score, factors: result.reasons };
  }

  private observe(ctx: LoginContext, deviceKey: string | undefined, user: UserView): SignalObservations {
    const failures = { account: this.accountFailures.count(ctx.userId, ctx.at), ip: this.ipFailures.count(ctx.ip, ctx.at) };
    return observeSignals(ctx, deviceKey, user, failures, this.badNetworks, this.signalSettings);
  }
}
