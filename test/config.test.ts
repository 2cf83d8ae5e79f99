import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, ENV_KEYS, loadConfig, type ConfigSources } from '../src/config.js';

/** Settings come from defaults < twofold.yaml < TWOFOLD_* variables (< PORT for port) < overrides. */

let cwd: string;
beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'twofold-config-'));
});
afterEach(() => {
  rmSync(cwd, { recursive: true, force: true });
});

const load = (sources: ConfigSources = {}) => loadConfig({ env: {}, cwd, ...sources });
const yaml = (text: string) => {
  const file = join(cwd, 'twofold.yaml');
  writeFileSync(file, text);
  return file;
};

/** The problems a ConfigError lists, or a failure if the configuration was accepted. */
function problemsOf(sources: ConfigSources): string[] {
  try {
    load(sources);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error(`configuration was accepted: ${JSON.stringify(sources)}`);
}

const MINUTE = 60_000;

describe('defaults', () => {
  it('are safe without any file or variable', () => {
    const config = load();
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8080,
      publicOrigin: 'http://127.0.0.1:8080',
      dataDir: join(cwd, 'data'),
      sqlitePath: join(cwd, 'data', 'twofold.db'),
      logLevel: 'info',
      trustedProxies: [],
      insecureCookies: true, // http on loopback: development mode
      session: {
        idleTimeoutMs: 30 * MINUTE,
        absoluteLifetimeMs: 12 * 60 * MINUTE,
        touchIntervalMs: MINUTE,
        enrollmentLifetimeMs: 15 * MINUTE,
      },
      login: { pendingLifetimeMs: 5 * MINUTE, maxCodeAttempts: 5, maxConsecutiveFactorFailures: 100, requireSecondFactor: true },
      totp: { issuer: 'twofold', window: 1 },
      rateLimit: { failuresBeforeDelay: 5, maxDelayMs: 15 * MINUTE, ipFailuresPerHour: 100 },
      setup: { linkLifetimeMs: 60 * MINUTE },
      bodyLimit: 16_384,
      cookieDomain: null,
      proxy: null,
      defaultPolicy: 'two_factor',
      heapGrowthPercent: 50,
    });
    expect(config.encryptionKey).toBeUndefined();
  });

  it('an https public_url turns off development mode (Secure, __Host- cookies)', () => {
    const config = load({ overrides: { public_url: 'https://auth.example.com' } });
    expect(config.publicOrigin).toBe('https://auth.example.com');
    expect(config.insecureCookies).toBe(false);
  });

  it('every setting has an environment variable named after its path', () => {
    const names = ENV_KEYS.map((k) => k.env);
    expect(names).toEqual(
      expect.arrayContaining([
        'TWOFOLD_DATA_DIR',
        'TWOFOLD_SESSION_IDLE_TIMEOUT',
        'TWOFOLD_LOGIN_MAX_CODE_ATTEMPTS',
        'TWOFOLD_RATE_LIMIT_FAILURES_BEFORE_DELAY',
      ]),
    );
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('environment variables', () => {
  it('TWOFOLD_DATA_DIR moves the data directory and the database with it', () => {
    const config = load({ env: { TWOFOLD_DATA_DIR: '/var/lib/twofold' } });
    expect(config.dataDir).toBe('/var/lib/twofold');
    expect(config.sqlitePath).toBe('/var/lib/twofold/twofold.db');
    expect(load({ env: { TWOFOLD_DATA_DIR: 'state' } }).dataDir).toBe(join(cwd, 'state'));
  });

  it('TWOFOLD_SESSION_IDLE_TIMEOUT=10m sets a nested duration', () => {
    expect(load({ env: { TWOFOLD_SESSION_IDLE_TIMEOUT: '10m' } }).session.idleTimeoutMs).toBe(10 * MINUTE);
    expect(load({ env: { TWOFOLD_SESSION_IDLE_TIMEOUT: '900' } }).session.idleTimeoutMs).toBe(15 * MINUTE); // bare seconds
  });

  it('PORT sets the port (and the default public URL); TWOFOLD_PORT wins over it', () => {
    const config = load({ env: { PORT: '9090' } });
    expect(config.port).toBe(9090);
    expect(config.publicOrigin).toBe('http://127.0.0.1:9090');
    expect(load({ env: { PORT: '9090', TWOFOLD_PORT: '7070' } }).port).toBe(7070);
  });

  it('booleans, integers and lists are read from text', () => {
    const config = load({
      env: {
        TWOFOLD_LOGIN_REQUIRE_SECOND_FACTOR: 'false',
        TWOFOLD_LOGIN_MAX_CODE_ATTEMPTS: '3',
        TWOFOLD_TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.1',
      },
    });
    expect(config.login.requireSecondFactor).toBe(false);
    expect(config.login.maxCodeAttempts).toBe(3);
    expect(config.trustedProxies).toEqual(['10.0.0.0/8', '192.168.1.1']);
  });

  it('win over the YAML file, and overrides win over both', () => {
    yaml('session:\n  idle_timeout: 20m\n  absolute_lifetime: 8h\n');
    const config = load({ env: { TWOFOLD_SESSION_IDLE_TIMEOUT: '10m' } });
    expect(config.session.idleTimeoutMs).toBe(10 * MINUTE);
    expect(config.session.absoluteLifetimeMs).toBe(8 * 60 * MINUTE);
    expect(load({ env: { TWOFOLD_SESSION_IDLE_TIMEOUT: '10m' }, overrides: { 'session.idle_timeout': '5m' } }).session.idleTimeoutMs).toBe(
      5 * MINUTE,
    );
  });

  it('TWOFOLD_CONFIG names the YAML file', () => {
    const file = join(cwd, 'elsewhere.yaml');
    writeFileSync(file, 'totp:\n  issuer: Example Corp\n');
    expect(load({ env: { TWOFOLD_CONFIG: file } }).totp.issuer).toBe('Example Corp');
  });
});

describe('wrong values are refused, naming the key', () => {
  it.each<[string, ConfigSources, RegExp]>([
    ['a port that is not a number (TWOFOLD_PORT)', { env: { TWOFOLD_PORT: 'http' } }, /^TWOFOLD_PORT: expected a number, got "http"$/],
    ['a port that is not a number (PORT)', { env: { PORT: 'eighty' } }, /^PORT: /],
    ['a port out of range', { env: { TWOFOLD_PORT: '70000' } }, /^port: /],
    [
      'a boolean that is not one',
      { env: { TWOFOLD_LOGIN_REQUIRE_SECOND_FACTOR: 'maybe' } },
      /^TWOFOLD_LOGIN_REQUIRE_SECOND_FACTOR: expected true or false/,
    ],
    [
      'a duration that is not one',
      { env: { TWOFOLD_SESSION_IDLE_TIMEOUT: 'forever' } },
      /^session\.idle_timeout: "forever" is not a duration/,
    ],
    ['an idle timeout under a minute', { env: { TWOFOLD_SESSION_IDLE_TIMEOUT: '30s' } }, /^session\.idle_timeout: must be at least 60s$/],
    [
      'an idle timeout longer than the absolute lifetime',
      { overrides: { 'session.idle_timeout': '13h' } },
      /^session\.idle_timeout: must not be longer than session\.absolute_lifetime$/,
    ],
    [
      'a touch interval not shorter than the idle timeout',
      { overrides: { 'session.touch_interval': '30m' } },
      /^session\.touch_interval: /,
    ],
    ['a pending lifetime under 30 s', { overrides: { 'login.pending_lifetime': '10s' } }, /^login\.pending_lifetime: /],
    ['an unknown log level', { env: { TWOFOLD_LOG_LEVEL: 'loud' } }, /^log_level: /],
    [
      'a factor-failure limit under NIST’s 10',
      { env: { TWOFOLD_LOGIN_MAX_CONSECUTIVE_FACTOR_FAILURES: '5' } },
      /^login\.max_consecutive_factor_failures: .*10/,
    ],
    [
      'a factor-failure limit over NIST’s 100',
      { overrides: { 'login.max_consecutive_factor_failures': 101 } },
      /^login\.max_consecutive_factor_failures: .*100/,
    ],
    ['more than 20 code attempts', { overrides: { 'login.max_code_attempts': 21 } }, /^login\.max_code_attempts: /],
    ['a TOTP window over 2', { overrides: { 'totp.window': 3 } }, /^totp\.window: /],
    ['a body limit under 1 KiB', { env: { TWOFOLD_BODY_LIMIT: '100' } }, /^body_limit: /],
    ['a trusted proxy that is no address', { env: { TWOFOLD_TRUSTED_PROXIES: 'proxy.local' } }, /^trusted_proxies: "proxy\.local"/],
    [
      'a redirect domain that is no host name',
      { overrides: { redirect_domains: ['app.example.com; script-src *'] } },
      /^redirect_domains: /,
    ],
    ['a redirect domain given as a URL', { env: { TWOFOLD_REDIRECT_DOMAINS: 'https://app.example.com/' } }, /^redirect_domains: /],
    ['an unknown store', { overrides: { store: 'mysql://db' } }, /^store: /],
    ['a malformed public_url', { overrides: { public_url: 'not a url' } }, /^public_url: /],
    ['a public_url that is not http(s)', { overrides: { public_url: 'ftp://auth.example.com' } }, /^public_url: must be http or https$/],
  ])('%s', (_label, sources, problem) => {
    expect(problemsOf(sources)).toEqual(expect.arrayContaining([expect.stringMatching(problem)]));
  });

  it.each([
    ['session.idle_timeout', 'forever'],
    ['session.idle_timeout', '10s'],
    ['session.absolute_lifetime', 'soon'],
    ['session.touch_interval', '1 minute'],
  ])('a bad %s (%s) is the only problem reported, not also the checks comparing it', (key, value) => {
    expect(problemsOf({ overrides: { [key]: value } })).toEqual([expect.stringMatching(new RegExp(`^${key.replace('.', '\\.')}: `))]);
  });

  it('heap_growth_percent is a whole percentage from 0 (V8 decides) to 300', () => {
    expect(load({ env: { TWOFOLD_HEAP_GROWTH_PERCENT: '0' } }).heapGrowthPercent).toBe(0);
    for (const value of ['301', '-1', '1.5', 'half']) {
      expect(problemsOf({ env: { TWOFOLD_HEAP_GROWTH_PERCENT: value } })).toEqual([
        expect.stringMatching(/^(heap_growth_percent|TWOFOLD_HEAP_GROWTH_PERCENT): /),
      ]);
    }
  });

  it('parallel_scavenge is auto (the default), on or off', () => {
    expect(load({}).parallelScavenge).toBe('auto');
    expect(load({ env: { TWOFOLD_PARALLEL_SCAVENGE: 'off' } }).parallelScavenge).toBe('off');
    expect(problemsOf({ env: { TWOFOLD_PARALLEL_SCAVENGE: 'sometimes' } })).toEqual([
      expect.stringMatching(/^(parallel_scavenge|TWOFOLD_PARALLEL_SCAVENGE): /),
    ]);
  });

  it('every problem is listed at once, not just the first', () => {
    const problems = problemsOf({ env: { TWOFOLD_PORT: 'x', TWOFOLD_LOGIN_REQUIRE_SECOND_FACTOR: 'maybe' } });
    expect(problems).toHaveLength(2);
  });

  it('the error message lists the problems', () => {
    expect(() => load({ env: { TWOFOLD_PORT: 'x' } })).toThrow(/invalid configuration:\n {2}TWOFOLD_PORT/);
  });
});

describe('the YAML file', () => {
  it('is read from ./twofold.yaml', () => {
    yaml('port: 9000\nsession:\n  absolute_lifetime: 8h\n');
    const config = load();
    expect(config.port).toBe(9000);
    expect(config.session.absoluteLifetimeMs).toBe(8 * 60 * MINUTE);
  });

  it('refuses an unknown top-level key', () => {
    yaml('port: 9000\nsesion:\n  idle_timeout: 10m\n');
    expect(problemsOf({})).toEqual(['sesion: unknown setting']);
  });

  it('refuses an unknown key in an access rule', () => {
    yaml('access_control:\n  rules:\n    - policy: bypass\n      pth: /public\n');
    expect(problemsOf({})).toEqual([expect.stringMatching(/^access_control\.rules\.0\.pth: unknown setting$/)]);
  });

  // A misspelt nested key must not silently leave the default in force
  // (`session: { absolute_lifetme: 1h }` would otherwise keep sessions at 12 h).
  it('refuses an unknown nested key (session.idle_timout)', () => {
    yaml('session:\n  idle_timout: 10m\n');
    expect(problemsOf({})).toEqual([expect.stringMatching(/^session\.idle_timout: unknown setting$/)]);
  });

  it('refuses unknown keys in every section, each named, all at once', () => {
    yaml(
      [
        'login:\n  max_code_atempts: 3',
        'access_control:\n  default_polcy: deny',
        'proxy:\n  upstrem: http://127.0.0.1:3000',
        'identity_headers:\n  jwt_lifetme: 30s',
      ].join('\n') + '\n',
    );
    expect(problemsOf({}).sort()).toEqual([
      'access_control.default_polcy: unknown setting',
      'identity_headers.jwt_lifetme: unknown setting',
      'login.max_code_atempts: unknown setting',
      'proxy.upstrem: unknown setting',
    ]);
  });

  it('refuses a file that is not a mapping, or not YAML, naming the file', () => {
    const list = yaml('- port\n- 9000\n');
    expect(problemsOf({})).toEqual([`${list}: expected a mapping of settings`]);
    yaml('port: [9000\n');
    expect(problemsOf({})).toEqual([expect.stringContaining(join(cwd, 'twofold.yaml'))]);
  });

  it('refuses a missing file named explicitly', () => {
    expect(problemsOf({ env: { TWOFOLD_CONFIG: join(cwd, 'missing.yaml') } })).toEqual([expect.stringContaining('missing.yaml')]);
  });

  it('an empty file means all defaults', () => {
    yaml('');
    expect(load().port).toBe(8080);
  });
});

describe('public_url: plain http only on loopback', () => {
  it.each(['http://127.0.0.1:8080', 'http://localhost:3000', 'http://[::1]:8080'])('accepts %s in development mode', (url) => {
    const config = load({ overrides: { public_url: url } });
    expect(config.insecureCookies).toBe(true);
  });

  it.each(['http://auth.example.com', 'http://192.168.1.10:8080', 'http://10.0.0.1'])('refuses %s', (url) => {
    expect(problemsOf({ overrides: { public_url: url } })).toEqual([
      expect.stringMatching(/^public_url: .* is plain http on a non-loopback host/),
    ]);
  });

  it('refuses listening on all interfaces over http without an explicit https public_url', () => {
    expect(problemsOf({ env: { TWOFOLD_HOST: '0.0.0.0' } })).toEqual([
      expect.stringMatching(/^public_url: http:\/\/0\.0\.0\.0:8080 is plain http/),
    ]);
    expect(load({ env: { TWOFOLD_HOST: '0.0.0.0', TWOFOLD_PUBLIC_URL: 'https://auth.example.com' } }).publicOrigin).toBe(
      'https://auth.example.com',
    );
  });

  it('cookie_domain needs https and must contain the public host', () => {
    expect(problemsOf({ overrides: { cookie_domain: 'example.com' } })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^cookie_domain: /)]),
    );
    expect(problemsOf({ overrides: { public_url: 'https://auth.example.com', cookie_domain: 'other.org' } })).toEqual([
      expect.stringMatching(/^cookie_domain: public_url's host auth\.example\.com is not within other\.org$/),
    ]);
    expect(load({ overrides: { public_url: 'https://auth.example.com', cookie_domain: '.Example.com' } }).cookieDomain).toBe('example.com');
  });
});
