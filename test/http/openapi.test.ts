import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsPlugin from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * /openapi.json is generated from the route schemas. These tests hold it to OpenAPI 3.1, to the
 * public contract, and to the routes Fastify really serves, so the document cannot drift.
 */

type Json = Record<string, any>;
// ajv-formats is CommonJS: under NodeNext its default import is the module object; at runtime either shape occurs.
const addFormats = ((formatsPlugin as unknown as { default?: typeof formatsPlugin }).default ?? formatsPlugin) as unknown as (
  ajv: Ajv2020,
) => Ajv2020;

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'options', 'head', 'trace'] as const;

/** The public API of the product issue: every one must be documented. */
const CONTRACT: Array<[method: string, path: string]> = [
  ['post', '/api/v1/login'],
  ['post', '/api/v1/login/second-factor'],
  ['get', '/api/v1/session'],
  ['post', '/api/v1/logout'],
  ['get', '/api/v1/sessions'],
  ['delete', '/api/v1/sessions/{id}'],
  ['delete', '/api/v1/sessions'],
  ['post', '/api/v1/factors/totp'],
  ['post', '/api/v1/factors/totp/confirm'],
  ['post', '/api/v1/factors/recovery-codes'],
  ['get', '/healthz'],
  ['get', '/readyz'],
  ['get', '/api/v1/events'],
  ['post', '/api/v1/account/password'],
  ['post', '/api/v1/setup'],
];

/** `{id}` (OpenAPI) to `:id` (Fastify). */
const toFastifyPath = (path: string) => path.replace(/\{([^}]+)\}/g, ':$1');

/**
 * Every (method, path) Fastify serves, read from printRoutes' radix tree: a node's full path is its
 * ancestors' segments joined. HEAD routes Fastify adds for GET are left out.
 */
function servedRoutes(tree: string): Array<[method: string, path: string]> {
  const routes: Array<[string, string]> = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (.*)$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    const [, segment, methods] = /^(.*?)(?: \(([^)]*)\))?$/.exec(match[2]!)!;
    const path = (depth === 0 ? '' : stack[depth - 1]!) + segment!;
    stack[depth] = path;
    stack.length = depth + 1;
    for (const method of methods ? methods.split(',').map((m) => m.trim().toLowerCase()) : []) {
      if (method !== 'head') routes.push([method, path]);
    }
  }
  return routes;
}

/** Every value under `node` with the given key, with its JSON pointer. */
function collect(node: unknown, key: string, pointer = '#'): Array<{ pointer: string; value: unknown }> {
  if (node === null || typeof node !== 'object') return [];
  const found: Array<{ pointer: string; value: unknown }> = [];
  for (const [k, v] of Object.entries(node)) {
    const here = `${pointer}/${k.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    if (k === key) found.push({ pointer: here, value: v });
    found.push(...collect(v, key, here));
  }
  return found;
}

const resolvePointer = (doc: Json, ref: string): unknown =>
  ref
    .replace(/^#\/?/, '')
    .split('/')
    .filter(Boolean)
    .reduce<any>((node, part) => node?.[part.replaceAll('~1', '/').replaceAll('~0', '~')], doc);

describe('GET /openapi.json', () => {
  let h: Harness;
  let doc: Json;
  let operations: Array<{ method: string; path: string; op: Json }>;

  beforeAll(async () => {
    h = await startHarness();
    const res = await h.app.inject({ method: 'GET', url: '/openapi.json' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/json');
    doc = res.json();
    operations = Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
      HTTP_METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] as Json })),
    );
  });
  afterAll(async () => {
    await h?.close();
  });

  describe('is a valid OpenAPI 3.1 document', () => {
    it('has the 3.1 header, info and our server', () => {
      expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
      expect(doc.info).toMatchObject({ title: 'twofold', version: expect.any(String) });
      expect(doc.info.description).toContain('Bearer');
      expect(doc.servers).toEqual([{ url: h.origin }]);
    });

    it('matches the document structure of OpenAPI 3.1 (paths, operations, parameters, responses)', () => {
      const ajv = new Ajv2020({ allErrors: true, strict: false });
      const mediaTypes = {
        type: 'object',
        additionalProperties: { type: 'object', required: ['schema'], properties: { schema: { type: ['object', 'boolean'] } } },
      };
      const structure = {
        type: 'object',
        required: ['openapi', 'info', 'paths'],
        properties: {
          openapi: { type: 'string' },
          info: { type: 'object', required: ['title', 'version'], properties: { title: { type: 'string' }, version: { type: 'string' } } },
          servers: { type: 'array', items: { type: 'object', required: ['url'], properties: { url: { type: 'string' } } } },
          components: {
            type: 'object',
            properties: { schemas: { type: 'object', additionalProperties: { type: ['object', 'boolean'] } } },
          },
          paths: {
            type: 'object',
            propertyNames: { pattern: '^/' },
            additionalProperties: {
              type: 'object',
              propertyNames: { enum: [...HTTP_METHODS, 'summary', 'description', 'parameters', 'servers'] },
              additionalProperties: {
                type: 'object',
                required: ['responses'],
                properties: {
                  summary: { type: 'string' },
                  tags: { type: 'array', items: { type: 'string' } },
                  parameters: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['name', 'in'],
                      properties: {
                        name: { type: 'string' },
                        in: { enum: ['query', 'header', 'path', 'cookie'] },
                        required: { type: 'boolean' },
                        schema: { type: 'object' },
                      },
                    },
                  },
                  requestBody: {
                    type: 'object',
                    required: ['content'],
                    properties: { content: mediaTypes, required: { type: 'boolean' } },
                  },
                  responses: {
                    type: 'object',
                    minProperties: 1,
                    propertyNames: { pattern: '^([1-5](XX|\\d\\d)|default)$' },
                    additionalProperties: {
                      type: 'object',
                      required: ['description'],
                      properties: { description: { type: 'string' }, content: mediaTypes },
                    },
                  },
                },
              },
            },
          },
        },
      };
      const validate = ajv.compile(structure);
      expect(validate(doc), JSON.stringify(validate.errors, null, 2)).toBe(true);
    });

    it('every $ref resolves and every schema is valid JSON Schema 2020-12', () => {
      const refs = collect(doc, '$ref');
      expect(refs.length).toBeGreaterThan(0);
      for (const { pointer, value } of refs) {
        expect(typeof value === 'string' && value.startsWith('#/'), `${pointer} is local`).toBe(true);
        expect(resolvePointer(doc, value as string), `${pointer} → ${value}`).toBeDefined();
      }

      // Strict Ajv refuses unknown keywords and malformed schemas; component refs point into a registered copy.
      const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
      addFormats(ajv);
      const rewrite = (schema: unknown): unknown =>
        JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', '"urn:twofold:components#/$defs/'));
      ajv.addSchema({ $id: 'urn:twofold:components', $defs: rewrite(doc.components?.schemas ?? {}) as Json });
      const schemas = [...collect(doc.paths, 'schema', '#/paths')];
      expect(schemas.length).toBeGreaterThan(operations.length);
      for (const { pointer, value } of schemas) {
        expect(() => ajv.compile(rewrite(value) as Json), pointer).not.toThrow();
      }
    });

    it('names shared schemas by their $id (the error shape is "Error", no "def-N")', () => {
      const names = Object.keys(doc.components?.schemas ?? {});
      expect(names).toContain('Error');
      expect(names.filter((name) => /^def-\d+$/.test(name))).toEqual([]);
      const sessionErrors = operations.find((o) => o.method === 'get' && o.path === '/api/v1/session')!.op.responses['4XX'];
      expect(JSON.stringify(sessionErrors)).toContain('#/components/schemas/Error');
    });

    it('declares the session cookie and Bearer as security schemes, on the operations that need a session', () => {
      expect(doc.components.securitySchemes).toEqual({
        session_cookie: expect.objectContaining({ type: 'apiKey', in: 'cookie', name: 'twofold_session' }),
        bearer: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      });
      const security = (method: string, path: string) => operations.find((o) => o.method === method && o.path === path)?.op.security;
      for (const [method, path] of [
        ['get', '/api/v1/session'],
        ['get', '/api/v1/sessions'],
        ['delete', '/api/v1/sessions/{id}'],
        ['post', '/api/v1/factors/totp'],
        ['post', '/api/v1/account/password'],
        ['get', '/api/v1/events'],
      ]) {
        expect(security(method!, path!), `${method} ${path}`).toEqual([{ session_cookie: [] }, { bearer: [] }]);
      }
      for (const [method, path] of [
        ['post', '/api/v1/login'],
        ['post', '/api/v1/setup'],
        ['get', '/healthz'],
      ]) {
        expect(security(method!, path!), `${method} ${path}`).toBeUndefined();
      }
    });

    it('declares every path template parameter as a required path parameter', () => {
      for (const { method, path, op } of operations) {
        const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
        const declared = ((op.parameters ?? []) as Json[]).filter((p) => p.in === 'path');
        expect(declared.map((p) => p.name).sort(), `${method} ${path}`).toEqual(names.sort());
        for (const p of declared) expect(p.required, `${method} ${path} ${p.name}`).toBe(true);
      }
    });
  });

  describe('documents the public API', () => {
    it.each(CONTRACT)('%s %s', (method, path) => {
      const op = doc.paths[path]?.[method];
      expect(op, `${method.toUpperCase()} ${path} is documented`).toBeDefined();
      expect(op.summary).toEqual(expect.any(String));
      expect(Object.keys(op.responses).some((status) => status.startsWith('2'))).toBe(true);
      if (path.startsWith('/api/')) {
        expect(op.responses['4XX']?.content['application/json'].schema.$ref, 'the error shape').toMatch(/^#\/components\/schemas\//);
      }
    });

    const body = (method: string, path: string): Json => doc.paths[path][method].requestBody.content['application/json'].schema;

    it('with the request body schemas the routes validate', () => {
      expect(body('post', '/api/v1/login')).toMatchObject({
        type: 'object',
        additionalProperties: false,
        required: ['username', 'password'],
        properties: { username: { type: 'string', maxLength: 256 }, password: { type: 'string', maxLength: 4096 } },
      });
      // The code-answer variant (the body may also be a union with other methods' answers, e.g. passkeys).
      const secondFactorBody = body('post', '/api/v1/login/second-factor');
      const secondFactor = ((secondFactorBody.anyOf as Json[] | undefined) ?? [secondFactorBody]).find((variant) =>
        (variant.required as string[] | undefined)?.includes('code'),
      )!;
      expect(secondFactor).toMatchObject({ type: 'object', additionalProperties: false, required: ['method', 'code'] });
      expect(JSON.stringify(secondFactor.properties.method)).toContain('"totp"');
      expect(JSON.stringify(secondFactor.properties.method)).toContain('"recovery_code"');
      expect(body('post', '/api/v1/factors/totp/confirm')).toMatchObject({
        additionalProperties: false,
        required: ['code'],
        properties: { code: { type: 'string' }, end_other_sessions: { type: 'boolean', default: true } },
      });
      expect(body('post', '/api/v1/account/password')).toMatchObject({
        additionalProperties: false,
        required: ['current_password', 'new_password'],
        properties: { end_other_sessions: { type: 'boolean', default: true } },
      });
      expect(body('post', '/api/v1/setup')).toMatchObject({ additionalProperties: false, required: ['token', 'username', 'password'] });
      expect(doc.paths['/api/v1/setup'].post.requestBody.required).toBe(true);
    });

    it('with query and path parameters', () => {
      const query = (doc.paths['/api/v1/events'].get.parameters as Json[]).filter((p) => p.in === 'query');
      expect(query.map((p) => p.name).sort()).toEqual(['before', 'limit']);
      expect(query.find((p) => p.name === 'limit')!.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 200 });
      expect(doc.paths['/api/v1/sessions/{id}'].delete.parameters).toEqual([
        expect.objectContaining({ name: 'id', in: 'path', required: true, schema: expect.objectContaining({ type: 'string' }) }),
      ]);
    });

    it('with response shapes: session fields and recovery codes', () => {
      const session = doc.paths['/api/v1/session'].get.responses['200'].content['application/json'].schema;
      expect(session.required).toEqual(expect.arrayContaining(['user', 'aal', 'amr', 'auth_time', 'expires_at', 'idle_expires_at']));
      const totp = doc.paths['/api/v1/factors/totp'].post.responses['200'].content['application/json'].schema;
      expect(totp.required).toEqual(expect.arrayContaining(['secret', 'otpauth_uri', 'qr_svg']));
      const confirm = JSON.stringify(doc.paths['/api/v1/factors/totp/confirm'].post.responses['200']);
      expect(confirm).toContain('recovery_codes');
    });
  });

  describe('matches the routes Fastify actually serves', () => {
    it('every documented operation is a route', () => {
      for (const { method, path } of operations) {
        expect(h.app.hasRoute({ method: method.toUpperCase() as 'GET', url: toFastifyPath(path) }), `${method.toUpperCase()} ${path}`).toBe(
          true,
        );
      }
    });

    it('every /api route (and the health checks) is documented, and nothing else is', () => {
      const served = servedRoutes(h.app.printRoutes({ commonPrefix: false }));
      // The parser itself reads the tree right: a few routes we know are there.
      expect(served).toEqual(
        expect.arrayContaining([
          ['delete', '/api/v1/sessions/:id'],
          ['get', '/healthz'],
          ['post', '/api/v1/login/second-factor'],
        ]),
      );
      const api = served
        .filter(([, path]) => path.startsWith('/api/') || path === '/healthz' || path === '/readyz')
        .map(([method, path]) => `${method.toUpperCase()} ${path}`)
        .sort();
      const documented = operations.map(({ method, path }) => `${method.toUpperCase()} ${toFastifyPath(path)}`).sort();
      expect(documented).toEqual(api);
    });

    it('keeps internal routes (forward-auth, pages, the document itself) out', () => {
      for (const path of Object.keys(doc.paths)) expect(path).toMatch(/^\/(api\/v1\/|healthz$|readyz$)/);
    });

    it('the documented request schemas are the ones enforced: {} and unknown fields are refused with 400', async () => {
      const withBodies = operations.filter(({ op }) => op.requestBody);
      expect(withBodies.length).toBeGreaterThanOrEqual(6);
      for (const { method, path } of withBodies) {
        const url = toFastifyPath(path);
        const schema = doc.paths[path][method].requestBody.content['application/json'].schema;
        if (schema.required?.length) {
          const empty = await h.app.inject({ method: method.toUpperCase() as 'POST', url, payload: {} });
          expect(empty.statusCode, `${method} ${path} with {}`).toBe(400);
        }
        if (schema.additionalProperties === false) {
          const extra = await h.app.inject({ method: method.toUpperCase() as 'POST', url, payload: { not_in_the_schema: 1 } });
          expect(extra.statusCode, `${method} ${path} with an unknown field`).toBe(400);
        }
      }
    });
  });
});
