import fc from 'fast-check';
import type { FuzzRoute, Schema } from './fuzz-routes.js';

/**
 * Generators of hostile HTTP requests for one route: bodies shaped by the route's schema then
 * broken (wrong types, missing and extra fields, oversized strings), random JSON, deep nesting,
 * invalid UTF-8, form bodies and wrong content types; cookies, Authorization, Origin, Host and
 * forwarding headers with garbled, oversized and valid-looking values; paths and query strings with
 * percent-encoding, dot segments, non-ASCII and great length; and other methods than the route's.
 */

export interface FuzzRequest {
  method: string;
  /** Path and query exactly as sent (may hold non-ASCII: sent as UTF-8 bytes on a socket). */
  url: string;
  /** Values are latin1 strings (one char per byte on the wire), no control character but tab (the socket phase sends those raw). */
  headers: Array<[string, string]>;
  body?: Buffer;
  /** Client address for app.inject. */
  ip: string;
  /** What kind of body was generated, for the failure message. */
  bodyKind: string;
}

/** What the generators may put in a request to look real: the server's names and a live identity. */
export interface FuzzWorld {
  origin: string;
  cookieNames: { session: string; pending: string; csrf: string };
  /** Credentials that really work, for the phase that checks rejected input changes nothing. */
  live?: { sessionToken: string; pendingToken: string; csrfToken: string; ids: string[] };
}

/** A header value as Node's parser lets one through: UTF-8 bytes read as latin1, no control character but tab. */
export const wireHeaderValue = (text: string): string =>
  Buffer.from(text, 'utf8')
    .toString('latin1')
    .replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, '');

const NASTY_STRINGS = [
  '',
  ' ',
  '..',
  '../',
  '..%2f',
  '%2e%2e',
  '%00',
  '%',
  '%%',
  '%ZZ',
  '%c0%ae',
  '%ff',
  '\u202e',
  '\u00e9',
  '\ud83d\ude00',
  '\ufeff',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '{{7*7}}',
  '${jndi:ldap://x}',
  '__proto__',
  'constructor',
  'prototype',
  'null',
  'undefined',
  'NaN',
  '-1',
  '0',
  '1e309',
  '9'.repeat(400),
  'A'.repeat(43),
  'usr_' + 'A'.repeat(20),
  'carol',
  'admin',
  '\\',
  '//',
  'a=b;c=d',
];

/** `arbitrary` one time in `n`, otherwise undefined. */
const oneIn = <T>(n: number, arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ arbitrary: fc.constant(undefined), weight: n - 1 }, { arbitrary, weight: 1 });

const nasty = fc.constantFrom(...NASTY_STRINGS);
const text = fc.oneof(
  { arbitrary: nasty, weight: 3 },
  { arbitrary: fc.string({ maxLength: 40 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 2 },
  { arbitrary: fc.integer({ min: 200, max: 20_000 }).map((n) => 'x'.repeat(n)), weight: 1 },
);

/** A token-shaped or JWT-shaped string: the kind of value a server might try to parse as a credential. */
const base64url = (min: number, max: number) => fc.stringMatching(new RegExp(`^[A-Za-z0-9_-]{${min},${max}}$`));
const jwtLike = fc.oneof(
  fc.tuple(base64url(10, 60), base64url(10, 200), base64url(0, 90)).map((parts) => parts.join('.')),
  fc
    .tuple(fc.constantFrom('none', 'HS256', 'EdDSA', 'ES256', 'RS256', ''), fc.jsonValue({ maxDepth: 2 }), base64url(0, 86))
    .map(([alg, claims, sig]) => {
      const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
      return `${b64({ alg, typ: 'JWT', kid: 'x' })}.${b64(claims)}.${sig}`;
    }),
);
const tokenish = fc.oneof(base64url(43, 43), base64url(0, 100), jwtLike, text);

// ---------------------------------------------------------------------------------------------
// Bodies

/** Values of the shape a schema describes (the fuzzer then breaks them). Strings stay short. */
export function fromSchema(schema: Schema | undefined, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return fc.jsonValue({ maxDepth: 2 });
  const alternatives = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (alternatives?.length) return fc.oneof(...alternatives.map((s) => fromSchema(s, depth + 1)));
  if (Array.isArray(schema.enum) && schema.enum.length) return fc.constantFrom(...(schema.enum as unknown[]));
  if ('const' in schema) return fc.constant(schema.const);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case 'string': {
      const maxLength = Math.min(typeof schema.maxLength === 'number' ? schema.maxLength : 64, 64);
      const minLength = Math.min(typeof schema.minLength === 'number' ? schema.minLength : 0, maxLength);
      if (typeof schema.pattern === 'string')
        return fc.stringMatching(new RegExp(schema.pattern as string)).map((s) => s.slice(0, Math.max(maxLength, minLength)));
      return fc.oneof(fc.string({ minLength, maxLength }), nasty);
    }
    case 'integer':
    case 'number':
      return fc.integer({
        min: typeof schema.minimum === 'number' ? schema.minimum : -1000,
        max: typeof schema.maximum === 'number' ? schema.maximum : 1_000_000,
      });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(fromSchema(schema.items as Schema, depth + 1), { maxLength: Math.min(schema.maxItems ?? 4, 4) });
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const model = Object.fromEntries(Object.entries(properties).map(([k, s]) => [k, fromSchema(s, depth + 1)]));
      return fc.record(model, { requiredKeys: ((schema.required ?? []) as string[]).filter((k) => k in properties) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

const wrongType = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
  fc.constant({ $ne: null }),
  fc.string({ maxLength: 20 }),
);

/** A schema-shaped object with one thing wrong, as JSON text (so "__proto__" can be a real key). */
function brokenJson(schema: Schema | undefined): fc.Arbitrary<string> {
  const valid = fromSchema(schema);
  return fc
    .tuple(valid, fc.nat(), wrongType, fc.integer({ min: 1, max: 20_000 }), fc.constantFrom('wrong', 'drop', 'extra', 'huge', 'proto'))
    .map(([value, pick, wrong, size, how]) => {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return JSON.stringify(wrong);
      const record = { ...(value as Record<string, unknown>) };
      const keys = Object.keys({ ...(schema?.properties ?? {}), ...record });
      const key = keys.length ? keys[pick % keys.length]! : 'x';
      if (how === 'wrong') record[key] = wrong;
      if (how === 'drop') delete record[key];
      if (how === 'extra') record[`${key}_x`] = wrong;
      if (how === 'huge') record[key] = 'h'.repeat(size);
      const json = JSON.stringify(record);
      if (how !== 'proto') return json;
      const pollution = '"__proto__":{"is_admin":true,"isAdmin":true},"constructor":{"prototype":{"is_admin":true}}';
      return json === '{}' ? `{${pollution}}` : `{${pollution},${json.slice(1)}`;
    });
}

const deepNesting = fc
  .tuple(fc.integer({ min: 50, max: 8_000 }), fc.constantFrom('[', '{"a":'))
  .map(([depth, open]) => open.repeat(depth) + '1' + (open === '[' ? ']' : '}').repeat(depth));

const formBody = fc
  .array(fc.tuple(fc.oneof(nasty, fc.constantFrom('_csrf', 'username', 'password', 'code', 'return_to', 'a[b]', '__proto__[x]')), text), {
    maxLength: 6,
  })
  .chain((pairs) =>
    fc
      .boolean()
      .map((encode) => pairs.map(([k, v]) => (encode ? `${encodeURIComponent(k)}=${encodeURIComponent(v)}` : `${k}=${v}`)).join('&')),
  );

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'APPLICATION/JSON',
  'application/x-www-form-urlencoded',
  'text/plain',
  'text/html',
  'multipart/form-data; boundary=----fuzz',
  'application/xml',
  'application/vnd.api+json',
  'application/json, text/plain',
  '*/*',
  '',
  'garbage/;;;=',
  'application/json; boundary="',
];

interface BodyChoice {
  kind: string;
  body?: Buffer;
  contentType?: string;
}

function bodies(route: FuzzRoute): fc.Arbitrary<BodyChoice> {
  const json = (kind: string, arb: fc.Arbitrary<string>) =>
    arb.map((t) => ({ kind, body: Buffer.from(t), contentType: 'application/json' }));
  const choice = fc.oneof(
    { arbitrary: fc.constant<BodyChoice>({ kind: 'none' }), weight: 3 },
    {
      arbitrary: json(
        'schema-shaped',
        fromSchema(route.body).map((v) => JSON.stringify(v) ?? 'null'),
      ),
      weight: route.body ? 4 : 1,
    },
    { arbitrary: json('schema-broken', brokenJson(route.body)), weight: route.body ? 4 : 1 },
    {
      arbitrary: json(
        'random-json',
        fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'),
      ),
      weight: 2,
    },
    { arbitrary: json('deep-nesting', deepNesting), weight: 1 },
    {
      arbitrary: json(
        'truncated-json',
        fc.tuple(fromSchema(route.body), fc.nat()).map(([v, n]) => {
          const t = JSON.stringify(v) ?? 'null';
          return t.slice(0, n % Math.max(t.length, 1));
        }),
      ),
      weight: 1,
    },
    {
      arbitrary: fc
        .tuple(fc.uint8Array({ maxLength: 300 }), fc.constantFrom('', '{"username":"', '{"code":"', '"'))
        .map(([bytes, prefix]) => ({
          kind: 'invalid-utf8',
          body: Buffer.concat([Buffer.from(prefix), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(bytes), Buffer.from('"}')]),
          contentType: 'application/json',
        })),
      weight: 1,
    },
    {
      arbitrary: formBody.map((t) => ({ kind: 'form', body: Buffer.from(t), contentType: 'application/x-www-form-urlencoded' })),
      weight: 2,
    },
    {
      arbitrary: json(
        'over-body-limit',
        fc.integer({ min: 16_400, max: 40_000 }).map((n) => JSON.stringify('b'.repeat(n))),
      ),
      weight: 1,
    },
  );
  // One time in five the content type lies about the body (or is missing, or garbage).
  return fc
    .tuple(choice, oneIn(5, fc.constantFrom(...CONTENT_TYPES)))
    .map(([b, lie]) => (lie === undefined ? b : { ...b, kind: `${b.kind} as "${lie}"`, contentType: lie }));
}

// ---------------------------------------------------------------------------------------------
// Paths and query strings

function paramValue(schema: Schema, world: FuzzWorld): fc.Arbitrary<string> {
  const arbitraries: Array<fc.WeightedArbitrary<string>> = [
    { arbitrary: fromSchema({ ...schema, type: 'string' }).map((v) => encodeURIComponent(String(v))), weight: 4 },
    { arbitrary: text.map(encodeURIComponent), weight: 2 },
    // Not encoded: dots, slashes, broken escapes and raw non-ASCII go as they are.
    { arbitrary: fc.oneof(nasty, fc.string({ unit: 'binary', maxLength: 20 })), weight: 2 },
    { arbitrary: fc.integer({ min: 190, max: 6_000 }).map((n) => 'p'.repeat(n)), weight: 1 },
  ];
  if (world.live?.ids.length) arbitraries.push({ arbitrary: fc.constantFrom(...world.live.ids), weight: 2 });
  return fc.oneof(...arbitraries);
}

function pathFor(route: FuzzRoute, world: FuzzWorld): fc.Arbitrary<string> {
  const segments = route.url.split('/');
  const filled = fc.tuple(
    ...segments.map((segment) => {
      if (segment.startsWith(':')) return paramValue(route.params[segment.slice(1)] ?? {}, world);
      if (segment.endsWith('*')) return paramValue(route.params['*'] ?? {}, world).map((v) => segment.slice(0, -1) + v);
      return fc.constant(segment);
    }),
  );
  const mutations = fc.constantFrom(
    (p: string) => `${p}/`,
    (p: string) => p.replace(/^\//, '//'),
    (p: string) => p.replace(/\/([^/]*)$/, '/./$1'),
    (p: string) => `${p}/..`,
    (p: string) => `/x/..${p}`,
    (p: string) => `${p}/%2e%2e/%2e%2e/admin`,
    (p: string) => p.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`),
    (p: string) => p.toUpperCase(),
    (p: string) => `${p};jsessionid=fuzz`,
    (p: string) => `${p}%00`,
    (p: string) => `${p}\u00e9\u4e2d`,
    (p: string) => p.replace(/\//g, '\\'),
    (p: string) => `${p}/${'l'.repeat(9_000)}`,
    (p: string) => `${p}#fragment`,
  );
  return fc.tuple(filled, oneIn(4, mutations)).map(([parts, mutate]) => {
    const path = parts.join('/') || '/';
    return mutate ? mutate(path) : path;
  });
}

function queryFor(route: FuzzRoute): fc.Arbitrary<string> {
  const documented = Object.entries(route.query);
  const schemaQuery = fc.tuple(
    ...documented.map(([name, { schema }]) =>
      oneIn(
        2,
        fc.oneof(
          { arbitrary: fromSchema(schema).map((v) => encodeURIComponent(String(v))), weight: 3 },
          { arbitrary: text.map(encodeURIComponent), weight: 1 },
          { arbitrary: fc.constantFrom('', '-1', '0', '1e3', '%ZZ', 'a,b', '999999999999999999999'), weight: 1 },
        ),
      ).map((v) => (v === undefined ? '' : `${name}=${v}`)),
    ),
  );
  const garbage = fc.constantFrom(
    '%',
    'a=%ZZ',
    'a[b]=1&a[c]=2',
    '__proto__[x]=1&constructor[prototype][x]=1',
    'limit=1&limit=2&limit=3',
    '=&=&&',
    'return_to=//evil.example',
    'return_to=javascript:alert(1)',
    `q=${'q'.repeat(6_000)}`,
    'x=\u00e9\u4e2d',
  );
  return fc.tuple(schemaQuery, oneIn(4, garbage), fc.boolean()).map(([pairs, extra, present]) => {
    const all = [...pairs.filter(Boolean), ...(extra ? [extra] : [])];
    return present || all.length ? `?${all.join('&')}` : '';
  });
}

// ---------------------------------------------------------------------------------------------
// Headers

function cookieHeader(world: FuzzWorld): fc.Arbitrary<string> {
  const { cookieNames: names, live } = world;
  const name = fc.oneof(
    fc.constantFrom(
      names.session,
      names.pending,
      names.csrf,
      '__Host-twofold_session',
      '__Host-twofold_pending',
      '__Host-twofold_csrf',
      '__Secure-twofold_session',
      'twofold_device',
      '__Host-twofold_device',
      '',
      '__proto__',
      'constructor',
    ),
    fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/),
  );
  const values: Array<fc.Arbitrary<string>> = [tokenish, fc.constantFrom('"quoted', '%E0%A4%A', '\u00ff\u00fe', 'a;b', '=', '""')];
  if (live) values.push(fc.constantFrom(live.sessionToken, live.csrfToken, `${live.sessionToken}x`, live.sessionToken.slice(1)));
  const randomPair = fc.tuple(name, fc.oneof(...values)).map(([n, v]) => `${n}=${v}`);
  // The live cookies under their own names: the requests that get past authentication.
  const pair = live
    ? fc.oneof(
        randomPair,
        fc.constantFrom(
          `${names.session}=${live.sessionToken}`,
          `${names.pending}=${live.pendingToken}`,
          `${names.csrf}=${live.csrfToken}`,
        ),
      )
    : randomPair;
  return fc.oneof(
    fc.array(pair, { minLength: 1, maxLength: 6 }).map((pairs) => pairs.join('; ')),
    fc.constantFrom(';;;=;', '=', 'garbage', `many=${'m'.repeat(12_000)}`),
    fc.integer({ min: 50, max: 600 }).map((n) => Array.from({ length: n }, (_, i) => `c${i}=${i}`).join('; ')),
  );
}

function authorization(world: FuzzWorld): fc.Arbitrary<string> {
  const schemes = fc.oneof(
    tokenish.map((t) => `Bearer ${t}`),
    fc.constantFrom('Bearer', 'Bearer ', 'bearer x', 'Basic ' + Buffer.from('admin:admin').toString('base64'), 'Negotiate x', 'Bearer a b'),
    text,
  );
  return world.live ? fc.oneof(schemes, fc.constant(`Bearer ${world.live.sessionToken}`)) : schemes;
}

const ipLike = fc.oneof(
  fc.ipV4(),
  fc.ipV6(),
  fc.constantFrom('unknown', '127.0.0.1, 10.0.0.1', '::ffff:1.2.3.4', '1.2.3.4:80', '[::1]', '999.1.1.1'),
  text,
);
const hostLike = fc.oneof(
  fc.domain(),
  fc.constantFrom('evil.example', '127.0.0.1:1', '[::1]', 'localhost:99999', 'ex ample', 'a@b', 'h\u00e9st', `${'h'.repeat(300)}.example`),
  text,
);
const urlLike = fc.oneof(
  fc.webUrl(),
  hostLike.map((h) => `https://${h}/`),
  fc.constantFrom('https://app.example.com/adm\u00efn', 'https://app.example.com/x/..%2Fadmin', 'javascript:alert(1)', '//evil'),
  text,
);

function headerSet(route: FuzzRoute, world: FuzzWorld): fc.Arbitrary<Array<[string, string]>> {
  const gate = route.url.startsWith('/auth/');
  /** The header one request in `n`. */
  const optional = (name: string, arb: fc.Arbitrary<string>, n: number) =>
    oneIn(
      n,
      arb.map((v): [string, string] => [name, v]),
    );
  // With a live session, the real CSRF token most of the time: a write must get past the CSRF guard to test anything behind it.
  const csrf = world.live
    ? fc.oneof({ arbitrary: tokenish, weight: 1 }, { arbitrary: fc.constant(world.live.csrfToken), weight: 3 })
    : tokenish;
  return fc
    .tuple(
      optional('cookie', cookieHeader(world), 2),
      optional('authorization', authorization(world), 3),
      optional('origin', fc.oneof(fc.constantFrom(world.origin, 'null', `${world.origin}/`, world.origin.toUpperCase()), urlLike), 3),
      optional('host', hostLike, 5),
      optional('x-forwarded-for', ipLike, 6),
      optional('x-forwarded-proto', fc.oneof(fc.constantFrom('https', 'http', 'HTTPS', 'ftp', 'https, http'), text), gate ? 2 : 8),
      optional('x-forwarded-host', fc.oneof(fc.constant('app.example.com'), hostLike), gate ? 2 : 8),
      optional('x-forwarded-uri', fc.oneof(fc.webPath(), text, fc.constantFrom('/adm\u00efn', '/\uff41dmin', '/x/../admin')), gate ? 2 : 8),
      optional('x-forwarded-method', fc.oneof(fc.constantFrom('GET', 'POST', 'G E T'), text), gate ? 3 : 10),
      optional(
        'x-original-url',
        fc.oneof(
          fc.webPath().map((p) => `https://app.example.com${p || '/'}`),
          urlLike,
        ),
        gate ? 2 : 8,
      ),
      optional('x-original-method', fc.oneof(fc.constantFrom('GET', 'DELETE'), text), gate ? 3 : 10),
      optional('x-csrf-token', csrf, world.live ? 2 : 3),
      optional('x-request-id', text, 8),
      optional('user-agent', text, 4),
      optional('accept', fc.oneof(fc.constantFrom('text/html', 'application/json', '*/*', 'text/html;q=0'), text), 5),
      optional('accept-language', text, 10),
      optional('referer', urlLike, 10),
    )
    .map((headers) =>
      headers
        .filter((h): h is [string, string] => h !== undefined)
        .map(([name, value]) => [name, wireHeaderValue(value)] as [string, string]),
    );
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'SEARCH', 'PURGE'];

/** Client addresses for app.inject: few, so the per-IP sign-in throttle soon answers cheaply instead of argon2. */
const CLIENT_IPS = ['198.51.100.7', '198.51.100.8', '2001:db8::7'];

/** One hostile request for a route. */
export function requestFor(route: FuzzRoute, world: FuzzWorld): fc.Arbitrary<FuzzRequest> {
  return fc
    .tuple(
      oneIn(6, fc.constantFrom(...METHODS)),
      pathFor(route, world),
      queryFor(route),
      headerSet(route, world),
      bodies(route),
      fc.constantFrom(...CLIENT_IPS),
    )
    .map(([otherMethod, path, query, headers, body, ip]) => {
      const all = [...headers];
      if (body.contentType !== undefined) all.push(['content-type', body.contentType]);
      return {
        method: otherMethod ?? route.method,
        url: path + query,
        headers: all,
        ...(body.body ? { body: body.body } : {}),
        ip,
        bodyKind: body.kind,
      };
    });
}

/** The route asked plainly (its method, every parameter "fuzz1"): the first case of each route, so each is reached. */
export function plainRequest(route: FuzzRoute): FuzzRequest {
  const url = route.url.replace(/:[^/]+/g, 'fuzz1').replace(/\*$/, 'fuzz1');
  return {
    method: route.method,
    url,
    headers: route.body ? [['content-type', 'application/json']] : [],
    ...(route.body ? { body: Buffer.from('{}') } : {}),
    ip: CLIENT_IPS[0]!,
    bodyKind: route.body ? 'empty object' : 'none',
  };
}

/** A readable line for a failure message (bounded: the request may be 40 KB). */
export function describeRequest(request: FuzzRequest): string {
  const cut = (s: string, n = 160) => (s.length > n ? `${s.slice(0, n)}…(${s.length})` : s);
  const headers = request.headers.map(([k, v]) => `${k}: ${JSON.stringify(cut(v, 80))}`).join(', ');
  const body = request.body ? JSON.stringify(cut(request.body.toString('latin1'))) : '-';
  return `${request.method} ${JSON.stringify(cut(request.url))} [${headers}] body(${request.bodyKind})=${body}`;
}
