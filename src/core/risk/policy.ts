/** How risky a sign-in looks, in four bands. */
export type RiskBand = 'low' | 'medium' | 'high' | 'very_high';

/** What the sign-in must do next, weakest first. */
export type RiskDecision = 'allow' | 'second_factor' | 'phishing_resistant_or_deny' | 'deny';

const DECISIONS: readonly RiskDecision[] = ['allow', 'second_factor', 'phishing_resistant_or_deny', 'deny'];
const BANDS: readonly RiskBand[] = ['low', 'medium', 'high', 'very_high'];

/** Lower bounds of the bands on the score scale (log10 likelihood ratio), increasing. */
export interface RiskThresholds {
  medium: number;
  high: number;
  veryHigh: number;
}

export function bandOf(score: number, thresholds: RiskThresholds): RiskBand {
  if (score >= thresholds.veryHigh) return 'very_high';
  if (score >= thresholds.high) return 'high';
  if (score >= thresholds.medium) return 'medium';
  return 'low';
}

export interface DecisionOptions {
  /** The weakest decision the configuration allows (e.g. 'second_factor' when 2FA is always required). */
  minimum?: RiskDecision;
  /** A remembered device lowers the band by one step; it never lifts a very-high deny. */
  trustedDevice?: boolean;
  /**
   * One of the user's passkeys recently answered with a signature counter that went backwards (a
   * copied key, src/core/factors/webauthn.ts): the band is at least high, whatever the device.
   */
  cloneSuspected?: boolean;
}

/** The band, raised to `floor` when lower. */
export const atLeast = (band: RiskBand, floor: RiskBand): RiskBand => (BANDS.indexOf(band) < BANDS.indexOf(floor) ? floor : band);

/**
 * Low → allow; medium → a second factor; high → a phishing-resistant factor where the user has
 * one, else deny; very high → deny. Never weaker than the configured minimum.
 */
export function decide(band: RiskBand, options: DecisionOptions = {}): RiskDecision {
  let index = BANDS.indexOf(band);
  if (options.trustedDevice && band !== 'very_high' && index > 0) index--;
  let minimum = options.minimum ? DECISIONS.indexOf(options.minimum) : 0;
  if (options.cloneSuspected) minimum = Math.max(minimum, DECISIONS.indexOf('phishing_resistant_or_deny'));
  return DECISIONS[Math.max(index, minimum)]!;
}
