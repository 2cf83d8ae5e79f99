import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Type, type Static, type TSchema, type TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { compileAccessRules, type AccessPolicy, type AccessRule } from './core/access/access-rules.js';
import { parseDuration } from './core/duration.js';
import { relyingParty, type RelyingParty } from './core/factors/webauthn.js';
import { phishingResistantPolicy, type PhishingResistantPolicy } from './core/policy/phishing-resistant-policy.js';
import { riskSettings, type RiskSettings } from './core/risk/settings.js';
import { webhookSettings, type WebhookSettings } from './core/webhooks/settings.js';
import type { RiskLifetimeTable } from './core/policy/risk-lifetimes.js';
import { trustedNetworks } from './context/trusted-proxies.js';

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

/** A host return addresses may point to: "app.example.com", "*.example.com", "app.example.com:8443" (also used in the CSP). */
export const REDIRECT_DOMAIN = /^(?:\*\.)?[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::\d{1,5})?$/i;

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
    store: Type.String({
      default: 'sqlite',
      description: '"sqlite" (file in data_dir), "sqlite:/path/to/file.db" or "postgres://user:pass@host:5432/db" (several nodes)',
    }),
    redis: Type.String({
      default: '',
      description:
        "Optional redis://host:6379 shared by the nodes: distributed rate limits and revocation broadcast to every node's session cache",
    }),
    sqlite_synchronous: Type.Union([Type.Literal('normal'), Type.Literal('full')], {
      default: 'normal',
      description:
        'SQLite durability (WAL mode): "normal" keeps every acknowledged write across a crash of the process, "full" also across an OS crash or power loss, at an fsync per commit (docs/security/crash-safety.md)',
    }),
    migrate_on_start: Type.Boolean({
      default: true,
      description: 'Apply pending schema migrations at start; when false, start only on a current schema (run "twofold migrate")',
    }),
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
        sensitive_max_age: Duration(
          '10m',
          'Sensitive actions (password, factors, recovery codes) need a factor proven this recently (ASVS 5.0 V7.5)',
        ),
        continuity: Type.Object(
          {
            enabled: Type.Boolean({
              default: true,
              description:
                "Compare every request's IP, place, browser and device cookie with the session's (docs/continuous-evaluation.md)",
            }),
            on_medium: Type.Union([Type.Literal('step_up'), Type.Literal('record')], {
              default: 'step_up',
              description: 'A new ASN or country mid-session: require a step-up, or only record it',
            }),
            on_high: Type.Union([Type.Literal('revoke'), Type.Literal('step_up'), Type.Literal('record')], {
              default: 'revoke',
              description:
                'A different browser or OS family, impossible travel or a missing device cookie: revoke the session, require a step-up, or only record it',
            }),
          },
          { default: {} },
        ),
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
    headers_timeout: Duration(
      '15s',
      "Longest a client may take to send a request's head (request line and headers); a slower one gets 408 and is disconnected (slowloris)",
    ),
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
    tokens: Type.Object(
      {
        access_ttl: Duration('10m', 'Lifetime of an access token (JWT, EdDSA)'),
        refresh_absolute_lifetime: Duration(
          '24h',
          'A token sign-in (refresh family) ends this long after sign-in (NIST 800-63B rev 4 AAL2)',
        ),
        refresh_idle_timeout: Duration('1h', 'A token sign-in ends when no refresh comes for this long'),
        issuer: Type.String({ default: '', description: 'iss of access tokens; default: the origin of public_url' }),
        audience: Type.Array(Type.String(), {
          default: [],
          description: 'aud of access tokens (one or more), required from them when set; default: none',
        }),
      },
      { default: {}, description: 'Access and refresh tokens for APIs, SPAs and mobile apps (docs/tokens.md)' },
    ),
    cors: Type.Object(
      {
        allowed_origins: Type.Array(Type.String(), {
          default: [],
          description:
            'Origins of browser apps (e.g. "https://app.example.com") that may call the token API from their own pages: sign-in for tokens, refresh, session and step-up with a Bearer token; cookies are never accepted from them (docs/tokens.md)',
        }),
        max_age: Duration('10m', 'How long a browser may cache the answer to a CORS preflight'),
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
        max_age: Duration(
          '5m',
          'PostgreSQL: longest a node trusts a cached session while it hears the revocation broadcast (Redis); bounds a revocation whose broadcast was lost',
        ),
        max_age_without_broadcast: Duration(
          '1s',
          'PostgreSQL: longest a node trusts a cached session while no revocation broadcast reaches it (no Redis, or Redis down)',
        ),
      },
      { default: {} },
    ),
    heap_growth_percent: Type.Integer({
      default: 50,
      minimum: 0,
      maximum: 300,
      description:
        "How far the JavaScript heap may grow past what was live after the last full GC before the next one, in percent (at most 300): keeps a server's memory near what it holds, at some more GC time. 0 leaves it to V8, which allows up to 4 times",
    }),
    parallel_scavenge: Type.Union([Type.Literal('auto'), Type.Literal('on'), Type.Literal('off')], {
      default: 'auto',
      description:
        'Whether V8 collects the young generation with helper threads: auto turns them off on a machine of 2 cores or fewer, where they wait for a busy core and lengthen every pause',
    }),
    metrics: Type.Object(
      {
        token: Type.String({
          default: '',
          description: 'GET /metrics also answers a request with `Authorization: Bearer <token>` (empty: no token accepted)',
        }),
        networks: Type.Array(Type.String(), {
          default: ['127.0.0.0/8', '::1/128'],
          description: 'Client networks (CIDRs) GET /metrics answers without a token; default loopback only, [] for none',
        }),
      },
      { default: {} },
    ),
    risk: Type.Object(
      {
        model: Type.Union([Type.Literal('twofold'), Type.Literal('freeman')], {
          default: 'twofold',
          description: 'Risk model: "twofold" (signals weighed by evidence) or "freeman" (the NDSS 2016 baseline); see docs/risk.md',
        }),
        thresholds: Type.Object(
          {
            medium: Type.Optional(Type.Number({ description: 'Score (log10 likelihood ratio) from which a second factor is required' })),
            high: Type.Optional(
              Type.Number({ description: 'Score from which a phishing-resistant factor is required, or the sign-in denied' }),
            ),
            very_high: Type.Optional(Type.Number({ description: 'Score from which the sign-in is denied' })),
          },
          { default: {}, additionalProperties: false, description: "Band boundaries; default: the model's own (docs/risk.md)" },
        ),
        retention_days: Type.Integer({
          default: 180,
          minimum: 1,
          maximum: 3650,
          description: 'Sign-ins older than this leave the risk history',
        }),
        per_user_cap: Type.Integer({ default: 200, minimum: 10, maximum: 10_000, description: 'Most sign-ins remembered per user' }),
      },
      { default: {}, additionalProperties: false },
    ),
    webauthn: Type.Object(
      {
        rp_id: Type.String({
          default: '',
          description:
            "Passkeys' relying-party ID: public_url's host or a parent domain of it (never an IP address); default: public_url's host",
        }),
        rp_name: Type.String({ default: 'twofold', description: 'Name authenticators show next to a passkey' }),
        origins: Type.Array(Type.String(), {
          default: [],
          description: 'Origins whose pages may use passkeys (each within rp_id); default: the origin of public_url',
        }),
        timeout: Duration('3m', 'Time to answer a passkey prompt; its challenge expires with it'),
        uv_counts_as_two_factors: Type.Boolean({
          default: false,
          description: 'A passkey assertion with user verification (PIN, biometric) counts as two factors',
        }),
        require_for: Type.Array(Type.String({ pattern: '^(user|group):.+$' }), {
          default: [],
          description:
            'Who must sign in and reach the admin console with a passkey: "user:NAME" or "group:NAME" (administrators are group:admins); docs/webauthn.md',
        }),
        clone_risk_for: Duration('7d', 'After a passkey clone is suspected, sign-ins of that user are at least high risk for this long'),
      },
      { default: {}, additionalProperties: false },
    ),
    geoip: Type.Object(
      {
        city_db: Type.String({
          default: 'builtin',
          description:
            'MaxMind-format (mmdb) city database for country, region, city and coordinates: "builtin" (DB-IP Lite, CC BY 4.0, shipped as an npm package), a file path (e.g. GeoLite2-City.mmdb), or "" for none',
        }),
        asn_db: Type.String({
          default: '',
          description: 'mmdb file giving the autonomous system of an IP (e.g. GeoLite2-ASN.mmdb); "" for none',
        }),
      },
      { default: {}, description: 'Where sign-ins come from, for the risk engine (docs/risk.md)' },
    ),
    remember_device: Type.Object(
      {
        lifetime: Duration('30d', '"Remember this device": how long a remembered browser lowers the risk of its sign-ins'),
        enabled: Type.Boolean({ default: true, description: 'Offer "remember this device" at the second-factor step' }),
        skip_second_factor: Type.Boolean({
          default: true,
          description:
            'A low-risk sign-in from a remembered browser skips the second factor; false: a second factor is always asked (the memory still lowers risk)',
        }),
      },
      { default: {} },
    ),
    session_by_risk: Type.Object(
      {
        medium: Type.Object(
          {
            idle_timeout: Duration('15m', 'Idle timeout of a session whose sign-in was medium risk'),
            absolute_lifetime: Duration('4h', 'Absolute lifetime of a session whose sign-in was medium risk'),
          },
          { default: {} },
        ),
        high: Type.Object(
          {
            idle_timeout: Duration('5m', 'Idle timeout of a session whose sign-in was high risk'),
            absolute_lifetime: Duration('1h', 'Absolute lifetime of a session whose sign-in was high risk'),
          },
          { default: {} },
        ),
      },
      { default: {}, description: 'Shorter sessions after riskier sign-ins; never longer than session.* (low risk gets those)' },
    ),
    risk_policy: Type.Object(
      {
        min_history: Type.Integer({
          default: 8,
          minimum: 0,
          maximum: 1000,
          description:
            'Successful sign-ins a user needs on record before risk may skip a factor, demand a passkey or deny; until then the policy alone decides (a second factor whenever the user has one)',
        }),
      },
      { default: {} },
    ),
    smtp: Type.Object(
      {
        url: Type.String({
          default: '',
          description:
            'smtp://user:pass@host:587 or smtps://… for security emails (new device or location, factor changes); "" turns email off',
        }),
        from: Type.String({ default: '', description: 'Sender address of security emails, e.g. "twofold <security@example.com>"' }),
      },
      { default: {} },
    ),
    webhooks: Type.Object(
      {
        deliver: Type.Boolean({
          default: true,
          description: 'Run the webhook delivery worker in this node (events are queued in the store either way)',
        }),
        max_attempts: Type.Integer({ default: 9, minimum: 1, maximum: 50, description: 'Attempts per delivery, the first included' }),
        timeout: Duration('10s', 'One delivery attempt waits this long for the receiver'),
        retry_delay: Duration('5s', 'Wait before the first retry; each later one waits retry_factor times longer (±20% jitter)'),
        retry_factor: Type.Number({ default: 5, minimum: 1, maximum: 20, description: 'Growth of the wait between retries' }),
        max_retry_delay: Duration('10h', 'Longest wait between two attempts'),
        poll_interval: Duration('1s', 'How often the delivery worker looks for due deliveries'),
      },
      { default: {}, description: 'Signed webhooks for security events (docs/webhooks.md)' },
    ),
    housekeeping: Type.Object(
      {
        interval: Duration('1h', 'How often this node deletes what ended long ago; 0 turns it off here'),
        keep_sessions: Duration(
          '30d',
          'Ended sessions are kept this long past their absolute expiry (investigation, refresh-token replay detection), then go with their refresh tokens',
        ),
        keep_webhook_deliveries: Duration('30d', 'Finished webhook deliveries and their attempt log are kept this long'),
      },
      { default: {}, description: 'Deleting expired rows, so the store does not grow without end (docs/housekeeping.md)' },
    ),
  },
  { additionalProperties: false },
);

/**
 * Every section, however deep, refuses keys it does not know: a misspelt setting
 * (`session.idle_timout`) is an error at start, not silently the default. Applied once here so a
 * section added later is closed too.
 */
function closeSections(schema: TSchema): void {
  if (schema.type === 'object' && schema.properties) {
    schema.additionalProperties = false;
    for (const child of Object.values(schema.properties as Record<string, TSchema>)) closeSections(child);
  }
  if (schema.type === 'array' && schema.items) closeSections(schema.items as TSchema);
  for (const option of (schema.anyOf ?? []) as TSchema[]) closeSections(option);
}
closeSections(ConfigSchema);

export type RawConfig = Static<typeof ConfigSchema>;

/** The validated configuration with durations in milliseconds and paths resolved. */
export interface Config {
  host: string;
  port: number;
  publicUrl: URL;
  publicOrigin: string;
  dataDir: string;
  sqlitePath: string;
  /** Where the data lives: the SQLite file at sqlitePath, or a PostgreSQL database shared by nodes. */
  store: { kind: 'sqlite' } | { kind: 'postgres'; url: string };
  /** Shared Redis (rate limits, revocation broadcast), or null. */
  redisUrl: string | null;
  migrateOnStart: boolean;
  /** PRAGMA synchronous for the SQLite file (docs/security/crash-safety.md). */
  sqliteSynchronous: 'normal' | 'full';
  encryptionKey?: string;
  logLevel: string;
  trustedProxies: string[];
  /** Plain-http localhost development: cookies without __Host- and Secure. */
  insecureCookies: boolean;
  session: {
    idleTimeoutMs: number;
    absoluteLifetimeMs: number;
    touchIntervalMs: number;
    enrollmentLifetimeMs: number;
    /** Sensitive actions need a factor proven within this (ASVS 5.0 V7.5). */
    sensitiveMaxAgeMs: number;
    /** Continuous evaluation of each request's context against the session's (auth/session-continuity.ts). */
    continuity: { enabled: boolean; onMedium: 'step_up' | 'record'; onHigh: 'revoke' | 'step_up' | 'record' };
  };
  /** Access and refresh tokens (docs/tokens.md). */
  tokens: { accessTtlMs: number; refreshAbsoluteLifetimeMs: number; refreshIdleTimeoutMs: number; issuer: string; audience: string[] };
  /** Browser apps on other origins allowed to use the token API with Bearer tokens (src/http/cors.ts). */
  cors: { allowedOrigins: string[]; maxAgeMs: number };
  login: { pendingLifetimeMs: number; maxCodeAttempts: number; maxConsecutiveFactorFailures: number; requireSecondFactor: boolean };
  totp: { issuer: string; window: number };
  rateLimit: { failuresBeforeDelay: number; maxDelayMs: number; ipFailuresPerHour: number };
  setup: { linkLifetimeMs: number };
  bodyLimit: number;
  /** headers_timeout: a request's head must arrive within it (slowloris). */
  headersTimeoutMs: number;
  cookieDomain: string | null;
  /** Hosts return addresses may point to. */
  redirectDomains: string[];
  accessRules: AccessRule[];
  defaultPolicy: AccessPolicy;
  /** The built-in reverse proxy, when an upstream is configured. */
  proxy: { upstream: URL; host: string; port: number; publicUrl: URL } | null;
  identityHeaders: { jwt: boolean; jwtLifetimeMs: number };
  sessionCache: { maxEntries: number; maxAgeMs: number; maxAgeWithoutBroadcastMs: number };
  /** `twofold serve` only (src/cli/heap-growth.ts); 0 leaves V8's heuristic alone. */
  heapGrowthPercent: number;
  /** `twofold serve` only (src/cli/parallel-scavenge.ts). */
  parallelScavenge: 'auto' | 'on' | 'off';
  /** Who may scrape GET /metrics: these networks, or anyone presenting the token. */
  metrics: { token: string; networks: string[] };
  /** Passkeys: the relying party and the origins allowed to use it (src/core/factors/webauthn.ts). */
  webauthn: RelyingParty & {
    /** webauthn.require_for: who must use a passkey (src/core/policy/phishing-resistant-policy.ts). */
    requireFor: PhishingResistantPolicy;
    /** webauthn.clone_risk_for: how long a suspected clone keeps the user's sign-ins at high risk. */
    cloneRiskMs: number;
  };
  /** The risk engine (src/core/risk): model, band thresholds, history retention. */
  risk: RiskSettings;
  /** mmdb files for the sign-in context: 'builtin' = the DB-IP Lite package; null = none (src/context/geoip.ts). */
  geoip: { cityDb: string | null; asnDb: string | null };
  /** "Remember this device": null when not offered. */
  rememberDevice: { lifetimeMs: number; skipSecondFactor: boolean } | null;
  /** Session lifetimes after medium- and high-risk sign-ins (src/core/policy/risk-lifetimes.ts). */
  sessionByRisk: RiskLifetimeTable;
  /** Security emails; null when no SMTP server is configured. */
  smtp: { url: string; from: string } | null;
  /** Risk acts on a user's sign-ins once this many are on record (too little history says nothing). */
  riskPolicy: { minHistory: number };
  /** Webhook delivery: worker, timeout, retry schedule (src/core/webhooks/settings.ts). */
  webhooks: WebhookSettings;
  /** housekeeping: how often, and how long ended rows are kept (src/housekeeping/housekeeping.ts). */
  housekeeping: { intervalMs: number; keepSessionsMs: number; keepWebhookDeliveriesMs: number };
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

/**
 * cors.allowed_origins: exact origins only. A wildcard would let any site's scripts drive the token
 * API from a victim's browser; plain http only for loopback development servers, like public_url.
 */
function corsOrigins(given: string[], publicUrl: URL | undefined, problems: string[]): string[] {
  const origins: string[] = [];
  for (const value of given) {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    const bare = value.replace(/\/$/, '');
    if (!url || !['http:', 'https:'].includes(url.protocol) || url.origin !== bare || value.includes('*')) {
      problems.push(`cors.allowed_origins: "${value}" is not an origin (scheme://host[:port], no path, no wildcard)`);
    } else if (url.protocol === 'http:' && !['localhost', '127.0.0.1', '[::1]'].includes(url.hostname)) {
      problems.push(`cors.allowed_origins: "${value}" is plain http on a non-loopback host`);
    } else if (url.origin !== publicUrl?.origin) {
      origins.push(url.origin);
    }
  }
  return origins;
}

function finish(raw: RawConfig, cwd: string, problems: string[]): Config {
  /** Durations already refused, so the checks that compare two of them stay quiet about those. */
  const badDurations = new Set<string>();
  const duration = (key: string, value: string, minMs = 1000): number => {
    const ms = parseDuration(value);
    if (ms === null) problems.push(`${key}: "${value}" is not a duration (use e.g. 90s, 30m, 12h, 7d)`);
    else if (ms < minMs) problems.push(`${key}: must be at least ${minMs / 1000}s`);
    if (ms === null || ms < minMs) badDurations.add(key);
    return ms ?? 0;
  };
  const bothValid = (...keys: string[]): boolean => keys.every((key) => !badDurations.has(key));
  const session = {
    idleTimeoutMs: duration('session.idle_timeout', raw.session.idle_timeout, 60_000),
    absoluteLifetimeMs: duration('session.absolute_lifetime', raw.session.absolute_lifetime, 60_000),
    touchIntervalMs: duration('session.touch_interval', raw.session.touch_interval, 0),
    enrollmentLifetimeMs: duration('session.enrollment_lifetime', raw.session.enrollment_lifetime, 60_000),
    sensitiveMaxAgeMs: duration('session.sensitive_max_age', raw.session.sensitive_max_age, 10_000),
    continuity: {
      enabled: raw.session.continuity.enabled,
      onMedium: raw.session.continuity.on_medium as 'step_up' | 'record',
      onHigh: raw.session.continuity.on_high as 'revoke' | 'step_up' | 'record',
    },
  };
  if (bothValid('session.idle_timeout', 'session.absolute_lifetime') && session.idleTimeoutMs > session.absoluteLifetimeMs) {
    problems.push('session.idle_timeout: must not be longer than session.absolute_lifetime');
  }
  if (bothValid('session.touch_interval', 'session.idle_timeout') && session.touchIntervalMs >= session.idleTimeoutMs) {
    problems.push('session.touch_interval: must be shorter than session.idle_timeout');
  }
  const refreshIdleMs = duration('tokens.refresh_idle_timeout', raw.tokens.refresh_idle_timeout, 60_000);
  const refreshAbsoluteMs = duration('tokens.refresh_absolute_lifetime', raw.tokens.refresh_absolute_lifetime, 60_000);
  if (bothValid('tokens.refresh_idle_timeout', 'tokens.refresh_absolute_lifetime') && refreshIdleMs > refreshAbsoluteMs) {
    problems.push('tokens.refresh_idle_timeout: must not be longer than tokens.refresh_absolute_lifetime');
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
  for (const cidr of raw.metrics.networks) {
    if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(cidr)) problems.push(`metrics.networks: "${cidr}" is not an IP or CIDR`);
  }
  for (const cidr of raw.trusted_proxies) {
    if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(cidr)) problems.push(`trusted_proxies: "${cidr}" is not an IP or CIDR`);
  }
  for (const domain of raw.redirect_domains) {
    if (!REDIRECT_DOMAIN.test(domain))
      problems.push(`redirect_domains: "${domain}" is not a host name (e.g. app.example.com, *.example.com, app.example.com:8443)`);
  }
  try {
    trustedNetworks(raw.trusted_proxies.filter((cidr) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(cidr)));
  } catch (err) {
    problems.push((err as Error).message);
  }

  let sqlitePath = resolve(cwd, raw.data_dir, 'twofold.db');
  let store: Config['store'] = { kind: 'sqlite' };
  if (raw.store.startsWith('sqlite:')) sqlitePath = resolve(cwd, raw.store.slice('sqlite:'.length));
  else if (/^postgres(ql)?:\/\//.test(raw.store)) store = { kind: 'postgres', url: raw.store };
  // The value is not echoed: a database URL may carry a password.
  else if (raw.store !== 'sqlite') problems.push('store: not supported (use "sqlite", "sqlite:/path/file.db" or "postgres://…")');
  if (raw.redis && !/^rediss?:\/\//.test(raw.redis)) problems.push('redis: expected a redis:// or rediss:// URL');

  const config: Config = {
    host: raw.host,
    port: raw.port,
    publicUrl: publicUrl ?? new URL('http://127.0.0.1'),
    publicOrigin: publicUrl?.origin ?? '',
    dataDir: resolve(cwd, raw.data_dir),
    sqlitePath,
    store,
    redisUrl: raw.redis || null,
    migrateOnStart: raw.migrate_on_start,
    sqliteSynchronous: raw.sqlite_synchronous,
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
    headersTimeoutMs: duration('headers_timeout', raw.headers_timeout, 1000),
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
    tokens: {
      accessTtlMs: duration('tokens.access_ttl', raw.tokens.access_ttl, 10_000),
      refreshAbsoluteLifetimeMs: refreshAbsoluteMs,
      refreshIdleTimeoutMs: refreshIdleMs,
      issuer: raw.tokens.issuer || (publicUrl?.origin ?? ''),
      audience: raw.tokens.audience,
    },
    cors: {
      allowedOrigins: corsOrigins(raw.cors.allowed_origins, publicUrl, problems),
      maxAgeMs: duration('cors.max_age', raw.cors.max_age, 0),
    },
    sessionCache: {
      maxEntries: raw.session_cache.max_entries,
      maxAgeMs: duration('session_cache.max_age', raw.session_cache.max_age, 0),
      maxAgeWithoutBroadcastMs: duration('session_cache.max_age_without_broadcast', raw.session_cache.max_age_without_broadcast, 0),
    },
    heapGrowthPercent: raw.heap_growth_percent,
    parallelScavenge: raw.parallel_scavenge,
    metrics: { token: raw.metrics.token, networks: raw.metrics.networks },
    risk: riskSettings(raw.risk, problems),
    webauthn: {
      ...relyingParty(
        {
          rpId: raw.webauthn.rp_id,
          rpName: raw.webauthn.rp_name,
          origins: raw.webauthn.origins,
          timeoutMs: duration('webauthn.timeout', raw.webauthn.timeout, 10_000),
          uvCountsAsTwoFactors: raw.webauthn.uv_counts_as_two_factors,
        },
        publicUrl,
        problems,
      ),
      requireFor: phishingResistantPolicy(raw.webauthn.require_for, problems),
      cloneRiskMs: duration('webauthn.clone_risk_for', raw.webauthn.clone_risk_for, 0),
    },
    geoip: {
      cityDb: raw.geoip.city_db === 'builtin' || raw.geoip.city_db === '' ? raw.geoip.city_db || null : resolve(cwd, raw.geoip.city_db),
      asnDb: raw.geoip.asn_db ? resolve(cwd, raw.geoip.asn_db) : null,
    },
    rememberDevice: raw.remember_device.enabled
      ? {
          lifetimeMs: duration('remember_device.lifetime', raw.remember_device.lifetime, 60_000),
          skipSecondFactor: raw.remember_device.skip_second_factor,
        }
      : null,
    sessionByRisk: {
      medium: {
        idleTimeoutMs: duration('session_by_risk.medium.idle_timeout', raw.session_by_risk.medium.idle_timeout, 60_000),
        absoluteLifetimeMs: duration('session_by_risk.medium.absolute_lifetime', raw.session_by_risk.medium.absolute_lifetime, 60_000),
      },
      high: {
        idleTimeoutMs: duration('session_by_risk.high.idle_timeout', raw.session_by_risk.high.idle_timeout, 60_000),
        absoluteLifetimeMs: duration('session_by_risk.high.absolute_lifetime', raw.session_by_risk.high.absolute_lifetime, 60_000),
      },
    },
    riskPolicy: { minHistory: raw.risk_policy.min_history },
    smtp: raw.smtp.url ? { url: raw.smtp.url, from: raw.smtp.from || `twofold <twofold@${publicUrl?.hostname ?? 'localhost'}>` } : null,
    webhooks: webhookSettings(raw.webhooks, duration, problems),
    housekeeping: {
      intervalMs: duration('housekeeping.interval', raw.housekeeping.interval, 0),
      keepSessionsMs: duration('housekeeping.keep_sessions', raw.housekeeping.keep_sessions, 0),
      keepWebhookDeliveriesMs: duration('housekeeping.keep_webhook_deliveries', raw.housekeeping.keep_webhook_deliveries, 0),
    },
  };
  // The URL is not echoed: it may carry the SMTP password.
  if (raw.smtp.url && !/^smtps?:\/\/[^/\s]+/.test(raw.smtp.url)) problems.push('smtp.url: expected smtp://host:port or smtps://host:port');
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
