import { describe, expect, it } from 'vitest';
import { bandOf, decide, type RiskBand, type RiskDecision } from '../../../src/core/risk/policy.js';

const thresholds = { medium: -1, high: 2, veryHigh: 4 };

describe('risk policy', () => {
  it.each([
    [-3, 'low'],
    [-1, 'medium'],
    [1.99, 'medium'],
    [2, 'high'],
    [4, 'very_high'],
    [40, 'very_high'],
  ] as const)('score %s is %s', (score, band) => {
    expect(bandOf(score, thresholds)).toBe(band);
  });

  const table: Array<[RiskBand, { minimum?: RiskDecision; trustedDevice?: boolean }, RiskDecision]> = [
    ['low', {}, 'allow'],
    ['medium', {}, 'second_factor'],
    ['high', {}, 'phishing_resistant_or_deny'],
    ['very_high', {}, 'deny'],
    // A policy requiring 2FA always: never weaker than the minimum.
    ['low', { minimum: 'second_factor' }, 'second_factor'],
    ['high', { minimum: 'second_factor' }, 'phishing_resistant_or_deny'],
    // A remembered device lowers by one band, never below the minimum, never out of a deny.
    ['medium', { trustedDevice: true }, 'allow'],
    ['high', { trustedDevice: true }, 'second_factor'],
    ['very_high', { trustedDevice: true }, 'deny'],
    ['medium', { trustedDevice: true, minimum: 'second_factor' }, 'second_factor'],
  ];
  it.each(table)('%s with %j → %s', (band, options, decision) => {
    expect(decide(band, options)).toBe(decision);
  });
});
