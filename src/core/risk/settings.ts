import { DEFAULT_THRESHOLDS, type RiskModelName } from './engine.js';
import type { RetentionLimits } from './history.js';
import type { RiskThresholds } from './policy.js';

/** The `risk` section of the configuration, validated. */
export interface RiskSettings {
  model: RiskModelName;
  thresholds: RiskThresholds;
  retention: RetentionLimits;
}

export interface RawRiskSettings {
  model: string;
  thresholds: { medium?: number; high?: number; very_high?: number };
  retention_days: number;
  per_user_cap: number;
}

/** Fills thresholds left out with the model's defaults and checks they increase. */
export function riskSettings(raw: RawRiskSettings, problems: string[]): RiskSettings {
  const model: RiskModelName = raw.model === 'freeman' ? 'freeman' : 'twofold';
  const defaults = DEFAULT_THRESHOLDS[model];
  const thresholds: RiskThresholds = {
    medium: raw.thresholds.medium ?? defaults.medium,
    high: raw.thresholds.high ?? defaults.high,
    veryHigh: raw.thresholds.very_high ?? defaults.veryHigh,
  };
  if (!(thresholds.medium < thresholds.high && thresholds.high < thresholds.veryHigh)) {
    problems.push(
      `risk.thresholds: must increase (medium < high < very_high), got ${thresholds.medium}, ${thresholds.high}, ${thresholds.veryHigh}`,
    );
  }
  return { model, thresholds, retention: { retentionMs: raw.retention_days * 86_400_000, perUserCap: raw.per_user_cap } };
}
