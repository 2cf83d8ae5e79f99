import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

/** The tokens.* and session.sensitive_max_age settings: defaults, environment, and refusals naming the key. */

const load = (overrides: Record<string, unknown> = {}, env: Record<string, string> = {}) =>
  loadConfig({ env, cwd: '/tmp', overrides: { data_dir: '/tmp/twofold-config-test', ...overrides } });

function problems(overrides: Record<string, unknown>): string[] {
  try {
    load(overrides);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('configuration was accepted');
}

describe('tokens configuration', () => {
  it('has safe defaults: 10 min access tokens, 24 h / 1 h refresh families, issuer = public origin, no audience', () => {
    const config = load({ public_url: 'https://auth.example.com' });
    expect(config.tokens).toEqual({
      accessTtlMs: 600_000,
      refreshAbsoluteLifetimeMs: 86_400_000,
      refreshIdleTimeoutMs: 3_600_000,
      issuer: 'https://auth.example.com',
      audience: [],
    });
    expect(config.session.sensitiveMaxAgeMs).toBe(600_000);
  });

  it('reads durations, issuer and audiences from YAML-shaped overrides and from the environment', () => {
    const config = load({ tokens: { access_ttl: '5m', issuer: 'https://issuer.example.com', audience: ['api-a', 'api-b'] } });
    expect(config.tokens).toMatchObject({ accessTtlMs: 300_000, issuer: 'https://issuer.example.com', audience: ['api-a', 'api-b'] });
    const fromEnv = load(
      {},
      { TWOFOLD_TOKENS_REFRESH_IDLE_TIMEOUT: '2h', TWOFOLD_TOKENS_AUDIENCE: 'api-a,api-b', TWOFOLD_SESSION_SENSITIVE_MAX_AGE: '5m' },
    );
    expect(fromEnv.tokens).toMatchObject({ refreshIdleTimeoutMs: 7_200_000, audience: ['api-a', 'api-b'] });
    expect(fromEnv.session.sensitiveMaxAgeMs).toBe(300_000);
  });

  it('refuses unknown keys, bad durations and an idle timeout longer than the absolute lifetime', () => {
    expect(problems({ tokens: { acces_ttl: '5m' } })).toContain('tokens.acces_ttl: unknown setting');
    expect(problems({ tokens: { access_ttl: 'soon' } })).toEqual([
      'tokens.access_ttl: "soon" is not a duration (use e.g. 90s, 30m, 12h, 7d)',
    ]);
    expect(problems({ tokens: { access_ttl: '1s' } })).toEqual(['tokens.access_ttl: must be at least 10s']);
    expect(problems({ tokens: { refresh_idle_timeout: '2d', refresh_absolute_lifetime: '1d' } })).toEqual([
      'tokens.refresh_idle_timeout: must not be longer than tokens.refresh_absolute_lifetime',
    ]);
    expect(problems({ session: { sensitive_max_age: '1s' } })).toEqual(['session.sensitive_max_age: must be at least 10s']);
  });
});
