import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config.js';
import { DEFAULT_THRESHOLDS } from '../../../src/core/risk/engine.js';

const load = (overrides: Record<string, unknown>) => loadConfig({ env: {}, cwd: '/nonexistent', overrides });
const problems = (overrides: Record<string, unknown>) => {
  try {
    load(overrides);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('risk configuration', () => {
  it('defaults to the twofold model, its thresholds, 180 days and 200 sign-ins per user', () => {
    const { risk } = load({});
    expect(risk).toEqual({
      model: 'twofold',
      thresholds: DEFAULT_THRESHOLDS.twofold,
      retention: { retentionMs: 180 * 86_400_000, perUserCap: 200 },
    });
  });

  it("takes the freeman model's thresholds with it, and single overrides", () => {
    const { risk } = load({ 'risk.model': 'freeman', 'risk.thresholds.high': 1.5 });
    expect(risk.thresholds).toEqual({ ...DEFAULT_THRESHOLDS.freeman, high: 1.5 });
  });

  it('refuses unknown keys, unknown models and thresholds out of order', () => {
    expect(problems({ 'risk.treshold': 1 })).toContain('risk.treshold: unknown setting');
    expect(problems({ 'risk.thresholds.low': 1 })).toContain('risk.thresholds.low: unknown setting');
    expect(problems({ 'risk.model': 'magic' }).some((p) => p.startsWith('risk.model'))).toBe(true);
    expect(problems({ 'risk.thresholds.medium': 3, 'risk.thresholds.high': 2 })).toContain(
      'risk.thresholds: must increase (medium < high < very_high), got 3, 2, 2.5',
    );
    expect(problems({ 'risk.per_user_cap': 1 }).some((p) => p.startsWith('risk.per_user_cap'))).toBe(true);
  });
});
