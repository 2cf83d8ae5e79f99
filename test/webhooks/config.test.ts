import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

/** The `webhooks` section: defaults, and clear refusals of values that cannot work. */

const load = (overrides: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) =>
  loadConfig({ env, cwd: '/nonexistent', overrides: { public_url: 'http://127.0.0.1:8080', ...overrides } });

const problemsOf = (overrides: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): string[] => {
  try {
    load(overrides, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('webhooks configuration', () => {
  it('defaults to the documented schedule', () => {
    expect(load({}).webhooks).toEqual({
      deliver: true,
      timeoutMs: 10_000,
      pollIntervalMs: 1000,
      retry: { maxAttempts: 9, firstDelayMs: 5000, factor: 5, maxDelayMs: 36_000_000, jitter: 0.2 },
    });
  });

  it('reads environment variables', () => {
    const config = load({}, { TWOFOLD_WEBHOOKS_MAX_ATTEMPTS: '3', TWOFOLD_WEBHOOKS_TIMEOUT: '5s', TWOFOLD_WEBHOOKS_DELIVER: 'false' });
    expect(config.webhooks).toMatchObject({ deliver: false, timeoutMs: 5000, retry: { maxAttempts: 3 } });
  });

  it('refuses values that cannot work, naming the key', () => {
    expect(problemsOf({ 'webhooks.timeout': '1h' })).toEqual([expect.stringContaining('webhooks.timeout: must be at most 120s')]);
    expect(problemsOf({ 'webhooks.timeout': 'soon' })).toEqual([expect.stringContaining('webhooks.timeout: "soon" is not a duration')]);
    expect(problemsOf({ 'webhooks.retry_delay': '1h', 'webhooks.max_retry_delay': '10m' })).toEqual([
      expect.stringContaining('webhooks.max_retry_delay: must not be shorter than webhooks.retry_delay'),
    ]);
    expect(problemsOf({ 'webhooks.max_attempts': 0 })).toEqual([expect.stringContaining('webhooks.max_attempts')]);
    expect(problemsOf({ 'webhooks.retry_factor': 0.5 })).toEqual([expect.stringContaining('webhooks.retry_factor')]);
    expect(problemsOf({ 'webhooks.url': 'https://example.com/' })).toEqual(['webhooks.url: unknown setting']);
  });
});
