import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Type, type Static, type TSchema, type TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { compileAccessRules, type AccessPolicy, type AccessRule } from './core/access/access-rules.js';
import { parseDuration } from './core/duration.js';

const listOf = (value: string | string[] | undefined): string[] | undefined =>
  value === undefined ? undefined : Array.isArray(value) ? value : [value];

/**
 * One schema for every setting, with its default. Sources, later ones winning:
 * defaults < twofold.yaml (or TWOFOLD_CONFIG) < TWOFOLD_<KEY> environment variables (< PORT for port).
 * A nested key's variable joins the path with '_': session.idle_timeout -> TWOFOLD_SESSION_IDLE_TIMEOUT.
 */
const StringOrList = Type.Union([Type.String(), Type.Array(Type.String())]);
const AccessPolicySchema = Type.Union(
  ['bypass', 'one_factor', 'two_factor', 'deny'].map((p) => Type.Literal(p)),
  {
    default: 'two_factor',
    description: 'Policy for requests no rule matches',
  },
);

const Duration = (defaultValue: string, description: string) =>
  Type.String({ default: defaultValue, description: `${description} (e.g. "90s", "30m", "12h", "7d", or seconds)` });

export const ConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1', description: 'Address to listen on' }),
    port: Type.Integer({ default: 8080, minimum: 0, maximum: 65535, description: 'Port to listen on (PORT also works)' }),
    public_url: Type.String({
      default: '',
      description:
        'The URL users reach twofold at, e.g. https://auth.example.com. Defines the origin CSRF checks accept and the links twofold prints. Default: http://<host>:<port>',
    }),
    data_dir: Type.String({ default: './data', description: 'Directory for the SQLite file and the generated encryption key' }),
    store: Type.String({ default: 'sqlite', description: '"sqlite" (file in data_dir) or "sqlite:/path/to/file.db"' }),
    encryption_key: Type.Optional(
      Type.String({ description: 'Base64 of 32 bytes encrypting TOTP secrets; default: generated into data_dir/secret.key' }),
    ),
    log_level: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info' },
    ),
    trusted_proxies: Type.Array(Type.String(), {
      default: [],
      description: 'CIDRs of reverse proxies whose X-Forwarded-For is believed (parsed right to left)',
    }),
    session: Type.Object(
      {
        idle_timeout: Duration('30m', 'A session ends after this long without activity (NIST 800-63B rev 3 AAL2)'),
        absolute_lifetime: Duration('12h', 'A session ends this long after sign-in, whatever its activity'),
        touch_interval: Duration('1m', 'Activity is written at most this often per session, so validation stays a read'),
        enrollment_lifetime: Duration('15m', 'Lifetime of the restricted session that only allows enrolling a factor'),
      },
      { default: {} },
    ),
    login: Type.Object(
      {
        pending_lifetime: Duration('5m', 'Time to answer the second-factor challenge after the password'),
        max_code_attempts: Type.Integer({ default: 5, minimum: 1, maximum: 20, description: 'Code tries per pending sign-in' }),
        max_consecutive_factor_failures: Type.Integer({
          default: 100,
          minimum: 10,
          maximum: 100,
          description: 'NIST 800-63B: consecutive failed second-factor attempts before the factor is locked for the account',
        }),
        require_second_factor: Type.Boolean({
          default: true,
          description: 'Every user must enroll and use a second factor',
        }),
      },
      { default: {} },
    ),
    totp: Type.Object(
      {
        issuer: Type.String({ default: 'twofold', description: 'Name shown in authenticator apps' }),
        window: Type.Integer({ default: 1, minimum: 0, maximum: 2, description: 'Accepted steps either side of now (RFC 6238 §5.2)' }),
      },
      { default: {} },
    ),
    rate_limit: Type.Object(
      {
        failures_before_delay: Type.Integer({
          default: 5,
          minimum: 1,
          description: 'Consecutive password failures for one account before delays start',
        }),
        max_delay: Duration('15m', 'Cap of the growing delay for an account under attack'),
        ip_failures_per_hour: Type.Integer({ default: 100, minimum: 1, description: 'Failed sign-in steps per client IP per hour' }),
      },
      { default: {} },
    ),
    setup: Type.Object({ link_lifetime: Duration('1h', 'Lifetime of the one-time first-admin setup link') }, { default: {} }),
    body_limit: Type.Integer({
      default: 16_384,
      minimum: 1024,
      maximum: 1_048_576,
      description: 'Largest request body accepted, in bytes',
    }),
    cookie_domain: Type.String({
      default: '',
      description:
        'Parent domain for single sign-on across sub-domains (e.g. example.com): cookies then carry Domain and the __Secure- prefix instead of __Host-',
    }),
    redirect_domains: Type.Array(Type.String(), {
      default: [],
      description:
        'Hosts the portal may send users back to ("app.example.com", "*.example.com"); default: the cookie domain and its sub-domains',
    }),
    access_control: Type.Object(
      {
        default_policy: AccessPolicySchema,
        rules: Type.Array(
          Type.Object(
            {
              domain: Type.Optional(StringOrList),
              path: Type.Optional(StringOrList),
              methods: Type.Optional(Type.Array(Type.String())),
              networks: Type.Optional(Type.Array(Type.String())),
              subjects: Type.Optional(Type.Array(Type.String())),
              policy: Type.Union(['bypass', 'one_factor', 'two_factor', 'deny'].map((p) => Type.Literal(p))),
              max_auth_age: Type.Optional(Type.String()),
            },
            { additionalProperties: false },
          ),
          { default: [] },
        ),
      },
      { default: {}, description: 'Rules for forward-auth and the built-in proxy: first match wins' },
    ),
    proxy: Type.Object(
      {
        upstream: Type.String({
          default: '',
          description: 'Built-in reverse proxy: the app to protect (e.g. http://127.0.0.1:3000); empty = no proxy',
        }),
        host: Type.String({ default: '127.0.0.1', description: 'Address the built-in proxy listens on' }),
        port: Type.Integer({ default: 8081, minimum: 0, maximum: 65535, description: 'Port the built-in proxy listens on' }),
        public_url: Type.String({
          default: '',
          description: 'The URL users reach the protected app at; default http://<proxy.host>:<proxy.port>',
        }),
      },
      { default: {} },
    ),
    identity_headers: Type.Object(
      {
        jwt: Type.Boolean({
          default: false,
          description: 'Also send a short-lived signed JWT (Remote-JWT) verifiable at /.well-known/jwks.json',
        }),
        jwt_lifetime: Duration('60s', 'Lifetime of the Remote-JWT assertion'),
      },
      { default: {} },
    ),
    session_cache: Type.Object(
      {
        max_entries: Type.Integer({
          default: 100_000,
          minimum: 0,
          description: 'Validated sessions kept in memory (0 disables the cache)',
        }),
      },
      { default: {} },
    ),
  },
  { additionalProperties: false },
);

export type RawConfig = Static<typeof ConfigSchema>;

/** The validated configuration with durations in milliseconds and paths resolved. */
export interface Config {
  host: string;
  port: number;
  publicUrl: URL;
  publicOrigin: string;
  dataDir: string;
  sqlitePath: string;
  encryptionKey?: string;
  logLevel: string;
  trustedProxies: string[];
  /** Plain-http localhost development: cookies without __Host- and Secure. */
  insecureCookies: boolean;
  session: { idleTimeoutMs: number; absoluteLifetimeMs: number; touchIntervalMs: number; enrollmentLifetimeMs: number };
  login: { pendingLifetimeMs: number; maxCodeAttempts: number; maxConsecutiveFactorFailures: number; requireSecondFactor: boolean };
  totp: { issuer: string; window: number };
  rateLimit: { failuresBeforeDelay: number; maxDelayMs: number; ipFailuresPerHour: number };
  setup: { linkLifetimeMs: number };
  bodyLimit: number;
  cookieDomain: string | null;
  /** Hosts return addresses may point to. */
  redirectDomains: string[];
  accessRules: AccessRule[];
  defaultPolicy: AccessPolicy;
  /** The built-in reverse proxy, when an upstream is configured. */
  proxy: { upstream: URL; host: string; port: number; publicUrl: URL } | null;
  identityHeaders: { jwt: boolean; jwtLifetimeMs: number };
  sessionCache: { maxEntries: number };
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Every leaf path of the schema with its environment variable name, derived so they cannot drift. */
function envKeys(schema: TObject, prefix: string[] = []): Array<{ path: string[]; env: string; schema: TSchema }> {
  const keys: Array<{ path: string[]; env: string; schema: TSchema }> = [];
  for (const [name, child] of Object.entries(schema.properties)) {
    const path = [...prefix, name];
    if ((child as TSchema).type === 'object' && (child as TObject).properties) keys.push(...envKeys(child as TObject, path));
    else keys.push({ path, env: `TWOFOLD_${path.join('_').toUpperCase()}`, schema: child as TSchema });
  }
  return keys;
}

export const ENV_KEYS = envKeys(ConfigSchema);

function coerceEnv(value: string, schema: TSchema, env: string, problems: string[]): unknown {
  switch (schema.type) {
    case 'integer':
    case 'number': {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n)) problems.push(`${env}: expected a number, got "${value}"`);
      return n;
    }
    case 'boolean':
      if (['true', '1', 'yes'].includes(value.toLowerCase())) return true;
      if (['false', '0', 'no'].includes(value.toLowerCase())) return false;
      problems.push(`${env}: expected true or false, got "${value}"`);
      return value;
    case 'array':
      return value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    default:
      return value;
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

export interface ConfigSources {
  env?: NodeJS.ProcessEnv;
  /** Path of a YAML file; default TWOFOLD_CONFIG or ./twofold.yaml when it exists. */
  file?: string;
  /** Values that win over everything (tests, CLI flags). */
  overrides?: Record<string, unknown>;
  cwd?: string;
}

export function loadConfig(sources: ConfigSources = {}): Config {
  const env = sources.env ?? process.env;
  const cwd = sources.cwd ?? process.cwd();
  const problems: string[] = [];
  let raw: Record<string, unknown> = {};

  const explicitFile = sources.file ?? env.TWOFOLD_CONFIG;
  const file = explicitFile ?? resolve(cwd, 'twofold.yaml');
  if (explicitFile !== undefined || existsSync(file)) {
    try {
      const parsed: unknown = parseYaml(readFileSync(file, 'utf8'));
      if (parsed !== null && parsed !== undefined) {
        if (typeof parsed !== 'object' || Array.isArray(parsed)) problems.push(`${file}: expected a mapping of settings`);
        else raw = parsed as Record<string, unknown>;
      }
    } catch (err) {
      problems.push(`${file}: ${(err as Error).message.split('\n')[0]}`);
    }
  }

  for (const key of ENV_KEYS) {
    const value = env[key.env];
    if (value !== undefined) setPath(raw, key.path, coerceEnv(value, key.schema, key.env, problems));
  }
  if (env.PORT !== undefined && env.TWOFOLD_PORT === undefined) {
    setPath(raw, ['port'], coerceEnv(env.PORT, Type.Integer(), 'PORT', problems));
  }
  for (const [key, value] of Object.entries(sources.overrides ?? {})) setPath(raw, key.split('.'), value);
  if (problems.length) throw new ConfigError(problems);

  const withDefaults = Value.Default(ConfigSchema, Value.Clone(raw));
  for (const error of Value.Errors(ConfigSchema, withDefaults)) {
    const key = error.path.replace(/^\//, '').replaceAll('/', '.') || '(root)';
    problems.push(error.message === 'Unexpected property' ? `${key}: unknown setting` : `${key}: ${error.message}`);
  }
  if (problems.length) throw new ConfigError(problems);
  return finish(withDefaults as RawConfig, cwd, problems);
}

function finish(raw: RawConfig, cwd: string, problems: string[]): Config {
  const duration = (key: string, value: string, minMs = 1000): number => {
    const ms = parseDuration(value);
    if (ms === null) problems.push(`${key}: "${value}" is not a duration (use e.g. 90s, 30m, 12h, 7d)`);
    else if (ms < minMs) problems.push(`${key}: must be at least ${minMs / 1000}s`);
    return ms ?? 0;
  };
  const session = {
    idleTimeoutMs: duration('session.idle_timeout', raw.session.idle_timeout, 60_000),
    absoluteLifetimeMs: duration('session.absolute_lifetime', raw.session.absolute_lifetime, 60_000),
    touchIntervalMs: duration('session.touch_interval', raw.session.touch_interval, 0),
    enrollmentLifetimeMs: duration('session.enrollment_lifetime', raw.session.enrollment_lifetime, 60_000),
  };
  if (session.idleTimeoutMs > session.absoluteLifetimeMs) {
    problems.push('session.idle_timeout: must not be longer than session.absolute_lifetime');
  }
  if (session.touchIntervalMs >= session.idleTimeoutMs) {
    problems.push('session.touch_interval: must be shorter than session.idle_timeout');
  }

  let publicUrl: URL | undefined;
  const publicUrlText = raw.public_url || `http://${raw.host.includes(':') ? `[${raw.host}]` : raw.host}:${raw.port}`;
  try {
    publicUrl = new URL(publicUrlText);
    if (publicUrl.protocol !== 'http:' && publicUrl.protocol !== 'https:') problems.push('public_url: must be http or https');
  } catch {
    problems.push(`public_url: "${publicUrlText}" is not a URL`);
  }
  const loopback = publicUrl !== undefined && ['localhost', '127.0.0.1', '[::1]'].includes(publicUrl.hostname);
  // Development mode: plain http is accepted only on a loopback host, where nobody else can read the
  // cookies; there they lose the __Host- prefix and Secure flag, which browsers refuse over http.
  if (publicUrl?.protocol === 'http:' && !loopback) {
    problems.push(
      `public_url: ${publicUrl.origin} is plain http on a non-loopback host; serve twofold over https (plain http is only for localhost development)`,
    );
  }
  for (const cidr of raw.trusted_proxies) {
    if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(cidr)) problems.push(`trusted_proxies: "${cidr}" is not an IP or CIDR`);
  }

  let sqlitePath = resolve(cwd, raw.data_dir, 'twofold.db');
  if (raw.store.startsWith('sqlite:')) sqlitePath = resolve(cwd, raw.store.slice('sqlite:'.length));
  else if (raw.store !== 'sqlite') problems.push(`store: "${raw.store}" is not supported (use "sqlite" or "sqlite:/path/file.db")`);

  const config: Config = {
    host: raw.host,
    port: raw.port,
    publicUrl: publicUrl ?? new URL('http://127.0.0.1'),
    publicOrigin: publicUrl?.origin ?? '',
    dataDir: resolve(cwd, raw.data_dir),
    sqlitePath,
    encryptionKey: raw.encryption_key,
    logLevel: raw.log_level,
    trustedProxies: raw.trusted_proxies,
    insecureCookies: publicUrl?.protocol === 'http:',
    session,
    login: {
      pendingLifetimeMs: duration('login.pending_lifetime', raw.login.pending_lifetime, 30_000),
      maxCodeAttempts: raw.login.max_code_attempts,
      maxConsecutiveFactorFailures: raw.login.max_consecutive_factor_failures,
      requireSecondFactor: raw.login.require_second_factor,
    },
    totp: { issuer: raw.totp.issuer, window: raw.totp.window },
    rateLimit: {
      failuresBeforeDelay: raw.rate_limit.failures_before_delay,
      maxDelayMs: duration('rate_limit.max_delay', raw.rate_limit.max_delay),
      ipFailuresPerHour: raw.rate_limit.ip_failures_per_hour,
    },
    setup: { linkLifetimeMs: duration('setup.link_lifetime', raw.setup.link_lifetime, 60_000) },
    bodyLimit: raw.body_limit,
    cookieDomain: raw.cookie_domain ? raw.cookie_domain.replace(/^\./, '').toLowerCase() : null,
    redirectDomains: raw.redirect_domains.length
      ? raw.redirect_domains
      : raw.cookie_domain
        ? [raw.cookie_domain.replace(/^\./, ''), `*.${raw.cookie_domain.replace(/^\./, '')}`]
        : [],
    accessRules: raw.access_control.rules.map((rule, i) => ({
      domains: listOf(rule.domain),
      paths: listOf(rule.path),
      methods: rule.methods,
      networks: rule.networks,
      subjects: rule.subjects,
      policy: rule.policy as AccessPolicy,
      maxAuthAgeMs: rule.max_auth_age === undefined ? undefined : duration(`access_control.rules[${i}].max_auth_age`, rule.max_auth_age),
    })),
    defaultPolicy: raw.access_control.default_policy as AccessPolicy,
    proxy: null,
    identityHeaders: {
      jwt: raw.identity_headers.jwt,
      jwtLifetimeMs: duration('identity_headers.jwt_lifetime', raw.identity_headers.jwt_lifetime),
    },
    sessionCache: { maxEntries: raw.session_cache.max_entries },
  };
  if (raw.proxy.upstream) {
    try {
      const upstream = new URL(raw.proxy.upstream);
      if (!['http:', 'https:'].includes(upstream.protocol)) problems.push('proxy.upstream: must be an http(s) URL');
      const host = raw.proxy.host.includes(':') ? `[${raw.proxy.host}]` : raw.proxy.host;
      const proxyPublic = new URL(raw.proxy.public_url || `http://${host}:${raw.proxy.port}`);
      config.proxy = { upstream, host: raw.proxy.host, port: raw.proxy.port, publicUrl: proxyPublic };
      // The protected app is somewhere users may be sent back to after signing in.
      config.redirectDomains = [...config.redirectDomains, proxyPublic.host];
    } catch {
      problems.push(`proxy: "${raw.proxy.upstream}" or "${raw.proxy.public_url}" is not a URL`);
    }
  }
  if (
    config.cookieDomain &&
    publicUrl &&
    !(publicUrl.hostname === config.cookieDomain || publicUrl.hostname.endsWith(`.${config.cookieDomain}`))
  ) {
    problems.push(`cookie_domain: public_url's host ${publicUrl.hostname} is not within ${config.cookieDomain}`);
  }
  if (config.cookieDomain && config.insecureCookies) problems.push('cookie_domain: needs an https public_url');
  try {
    compileAccessRules(config.accessRules, config.defaultPolicy);
  } catch (err) {
    problems.push((err as Error).message);
  }
  if (problems.length) throw new ConfigError(problems);
  return config;
}
