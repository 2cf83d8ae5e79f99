import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { issueSetupLinkIfNeeded } from '../../src/auth/setup.js';
import { addUser } from '../../src/auth/users.js';
import { startHarness, type Harness } from '../support/harness.js';
import {
  ApiClient,
  enrollTotp,
  expectJsonError,
  OTHER_STRONG_PASSWORD,
  STRONG_PASSWORD,
  StoredRows,
  totpAt,
  UNKNOWN_TOKEN,
  type EnrolledUser,
} from './client.js';

/**
 * Bad input of every kind gets a 4xx JSON {error:{code,message}}, never a 500, and changes nothing
 * that is stored (compared table by table, row by row, before and after).
 */

const MINUTE = 60_000;

describe('bad input is refused with a 4xx JSON error and changes nothing', () => {
  let h: Harness;
  let db: StoredRows;
  let client: ApiClient;
  /** A signed-in two-factor client, for routes behind a session. */
  let signedIn: ApiClient;
  let carol: EnrolledUser;
  let before: ReturnType<StoredRows['snapshot']>;

  beforeAll(async () => {
    h = await startHarness();
    db = new StoredRows(h.deps.config.sqlitePath);
    await addUser(h.deps, { username: 'carol', password: STRONG_PASSWORD, isAdmin: false }, null);
    signedIn = new ApiClient(h, { userAgent: 'vitest signed in' });
    carol = await enrollTotp(h, signedIn, 'carol', STRONG_PASSWORD);
  });
  afterAll(async () => {
    db?.close();
    await h?.close();
  });
  beforeEach(() => {
    client = new ApiClient(h);
    before = db.snapshot();
  });
  const expectNothingStored = () => expect(db.snapshot()).toEqual(before);

  describe('request bodies', () => {
    it.each([
      ['/api/v1/login', '{"username":"carol","password":'],
      ['/api/v1/login', '{"username":"carol" "password":"x"}'],
      ['/api/v1/login', ''],
      ['/api/v1/login/second-factor', '{method: totp}'],
      ['/api/v1/setup', '[1,2'],
    ])('malformed JSON to %s → 400 bad_request', async (url, raw) => {
      expectJsonError(await client.post(url, raw, { headers: { 'content-type': 'application/json' } }), 400, 'bad_request');
      expectNothingStored();
    });

    it('malformed JSON behind a session → 400 bad_request', async () => {
      for (const url of ['/api/v1/account/password', '/api/v1/factors/totp/confirm']) {
        expectJsonError(
          await signedIn.post(url, '{"current_password":', { headers: { 'content-type': 'application/json' } }),
          400,
          'bad_request',
        );
      }
      expectNothingStored();
    });

    it.each([
      ['an object for the username', { username: { $ne: null }, password: STRONG_PASSWORD }],
      ['two passwords', { username: 'carol', password: [STRONG_PASSWORD, 'guess'] }],
      ['null for the password', { username: 'carol', password: null }],
      ['a body that is an array', [{ username: 'carol', password: STRONG_PASSWORD }]],
      ['a body that is a string', 'carol'],
      ['an empty username', { username: '', password: STRONG_PASSWORD }],
      ['a 257-character username', { username: 'c'.repeat(257), password: STRONG_PASSWORD }],
      ['a 4097-character password', { username: 'carol', password: 'p'.repeat(4097) }],
    ])('login with %s → 400 bad_request', async (_label, body) => {
      const payload = typeof body === 'string' ? JSON.stringify(body) : body;
      expectJsonError(await client.post('/api/v1/login', payload, { headers: { 'content-type': 'application/json' } }), 400, 'bad_request');
      expectNothingStored();
    });

    it.each([
      ['no body at all', undefined],
      ['an empty object', {}],
      ['no password', { username: 'carol' }],
      ['no username', { password: STRONG_PASSWORD }],
    ])('login with %s (missing fields) → 400 bad_request', async (_label, body) => {
      expectJsonError(await client.post('/api/v1/login', body), 400, 'bad_request');
      expectNothingStored();
    });

    it('extra fields are refused, not ignored', async () => {
      expectJsonError(
        await client.post('/api/v1/login', { username: 'carol', password: STRONG_PASSWORD, is_admin: true }),
        400,
        'bad_request',
      );
      expectJsonError(
        await client.post('/api/v1/login', { username: 'carol', password: STRONG_PASSWORD, remember_me: true }),
        400,
        'bad_request',
      );
      expectJsonError(await signedIn.post('/api/v1/factors/totp/confirm', { code: '123456', secret: 'AAAA' }), 400, 'bad_request');
      expectJsonError(
        await signedIn.post('/api/v1/account/password', {
          current_password: STRONG_PASSWORD,
          new_password: OTHER_STRONG_PASSWORD,
          user_id: 'usr_x',
        }),
        400,
        'bad_request',
      );
      expectNothingStored();
    });

    it('second-factor bodies with a wrong method, a wrong type or a missing code → 400', async () => {
      const pending = new ApiClient(h);
      h.clock.advance(30_000);
      expect((await pending.login('carol', STRONG_PASSWORD)).body.state).toBe('second_factor_required');
      before = db.snapshot();
      for (const body of [
        { method: 'sms', code: '123456' },
        { method: 'totp', code: { $gt: '' } },
        { method: 'totp', code: '' },
        { method: 'totp', code: '1'.repeat(65) },
        { method: 'totp' },
        { code: '123456' },
      ]) {
        expectJsonError(await pending.post('/api/v1/login/second-factor', body), 400, 'bad_request');
      }
      // None of them counted as an attempt on the pending sign-in.
      expectNothingStored();
    });

    // JSON arrives typed: a value of the wrong type is refused, never converted (Ajv's coerceTypes
    // would turn 12345678 or ["pw"] into a string). Query strings are text and are still converted.
    it.each([
      ['a number for the password', '/api/v1/login', { username: 'carol', password: 12345678901234 }],
      ['a one-element array for the password', '/api/v1/login', { username: 'carol', password: [STRONG_PASSWORD] }],
      ['a boolean for the username', '/api/v1/login', { username: true, password: STRONG_PASSWORD }],
      ['a number for a TOTP code', '/api/v1/login/second-factor', { method: 'totp', code: 123456 }],
    ])('JSON with %s → 400, not coerced', async (_label, url, body) => {
      expectJsonError(await client.post(url, body), 400, 'bad_request');
      expectNothingStored();
    });

    it('a string for a JSON boolean → 400; a missing one takes its default', async () => {
      const res = await signedIn.post('/api/v1/account/password', {
        current_password: STRONG_PASSWORD,
        new_password: OTHER_STRONG_PASSWORD,
        end_other_sessions: 'false',
      });
      expectJsonError(res, 400, 'bad_request');
      expectNothingStored();
      expect((await signedIn.get('/api/v1/events?limit=2')).body.events).toHaveLength(2);
    });

    it('an empty JSON body on an endpoint that reads none is no body: logout works', async () => {
      // A recovery code, so that the clock stays put (moving it would let the next tests' requests
      // record activity on the signed-in session).
      const other = new ApiClient(h);
      await other.login('carol', STRONG_PASSWORD);
      await other.secondFactor('recovery_code', carol.recoveryCodes.pop()!);
      expect((await other.session()).status).toBe(200);
      const res = await other.post('/api/v1/logout', '', { headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(204);
      expect(other.sessionToken).toBeUndefined();
      // An endpoint that needs a body still says so.
      expectJsonError(await client.post('/api/v1/login', '', { headers: { 'content-type': 'application/json' } }), 400, 'bad_request');
    });

    it('query strings of the wrong type → 400', async () => {
      for (const url of ['/api/v1/events?limit=abc', '/api/v1/events?limit=0', '/api/v1/events?limit=201', '/api/v1/events?before=-1']) {
        expectJsonError(await signedIn.get(url), 400, 'bad_request');
      }
      expectNothingStored();
    });

    it('a body over body_limit (16 KiB) → 413 payload_too_large', async () => {
      expect(h.deps.config.bodyLimit).toBe(16_384);
      const big = { username: 'carol', password: 'p'.repeat(17_000) };
      expectJsonError(await client.post('/api/v1/login', big), 413, 'payload_too_large');
      const form = `username=carol&password=${'p'.repeat(17_000)}`;
      expectJsonError(
        await client.post('/api/v1/login', form, { headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
        413,
        'payload_too_large',
      );
      expectJsonError(await signedIn.post('/api/v1/factors/totp/confirm', { code: '1'.repeat(20_000) }), 413, 'payload_too_large');
      expectNothingStored();
    });

    it('a body in a content type the API does not read → 415 (or 400 for text/plain, which is no object)', async () => {
      const xml = '<login><username>carol</username></login>';
      expectJsonError(
        await client.post('/api/v1/login', xml, { headers: { 'content-type': 'application/xml' } }),
        415,
        'unsupported_media_type',
      );
      expectJsonError(
        await client.post('/api/v1/login', 'x', { headers: { 'content-type': 'multipart/form-data; boundary=x' } }),
        415,
        'unsupported_media_type',
      );
      expectJsonError(
        await client.post('/api/v1/login', 'carol:secret', { headers: { 'content-type': 'text/plain' } }),
        400,
        'bad_request',
      );
      expectNothingStored();
    });
  });

  describe('routes and methods', () => {
    it.each(['/api/v1/nope', '/api/v2/login', '/api/v1/sessions/a/b', '/api/v1/factors/sms', '/api'])(
      'GET %s → 404 JSON not_found',
      async (url) => {
        expectJsonError(await client.get(url), 404, 'not_found');
      },
    );

    it('POST to an unknown /api route → 404 JSON, even with a body', async () => {
      expectJsonError(await client.post('/api/v1/superusers', { username: 'mallory', password: STRONG_PASSWORD }), 404, 'not_found');
      expectNothingStored();
    });

    it('a path parameter over its schema length → 400; at it, an unknown id → 404 not_found', async () => {
      expectJsonError(await signedIn.delete(`/api/v1/sessions/${'x'.repeat(65)}`), 400, 'bad_request');
      expectJsonError(await signedIn.delete(`/api/v1/sessions/${'x'.repeat(64)}`), 404, 'not_found');
      expectNothingStored();
    });

    // URLs the router itself rejects (a parameter over maxParamLength 200 → 414, broken
    // percent-encoding → 400) never reach a route: Fastify's frameworkErrors answers them.
    it.each([
      ['an over-long path parameter', 'DELETE', `/api/v1/sessions/${'x'.repeat(300)}`, 414],
      ['a broken percent-encoding in a parameter', 'DELETE', '/api/v1/sessions/%E0%A4%A', 400],
      ['a stray % in the path', 'GET', '/api/v1/session%', 400],
    ])('%s → 4xx in the API error shape with the security headers, changing nothing', async (_label, method, url, status) => {
      const res = await signedIn.request(method, url);
      expectJsonError(res, status, 'bad_request');
      expect(res.headers['content-security-policy']).toBeDefined();
      expect(res.headers['referrer-policy']).toBe('same-origin');
      expect(res.headers['cache-control']).toBe('no-store');
      expect(JSON.stringify(res.body)).not.toContain('xxxxxxxxxx');
      expectNothingStored();
    });

    it('a page URL the router rejects gets the HTML error page with the security headers', async () => {
      const res = await client.request('POST', `/account/sessions/${'x'.repeat(300)}/revoke`);
      expect(res.status).toBe(414);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.headers['content-security-policy']).toBeDefined();
      expect(res.body).toContain('A part of the URL is too long.');
    });

    it.each([
      ['GET', '/api/v1/login'],
      ['PUT', '/api/v1/login'],
      ['GET', '/api/v1/logout'],
      ['DELETE', '/api/v1/session'],
      ['PATCH', '/api/v1/sessions'],
      ['GET', '/api/v1/factors/totp'],
      ['PUT', '/api/v1/account/password'],
      ['GET', '/api/v1/setup'],
    ])('wrong method %s %s → 405 JSON method_not_allowed with Allow', async (method, url) => {
      const res = await signedIn.request(method, url, { body: method === 'GET' ? undefined : {} });
      expectJsonError(res, 405, 'method_not_allowed');
      expect(res.headers.allow).toMatch(/^[A-Z]+(, [A-Z]+)*$/);
      expect(String(res.headers.allow).split(', ')).not.toContain(method);
      expect(res.body.error.allow).toEqual(String(res.headers.allow).split(', '));
      expectNothingStored();
    });

    it('Allow lists exactly the methods of the path, parameters included', async () => {
      expect((await signedIn.request('PUT', '/api/v1/login', { body: {} })).headers.allow).toBe('POST');
      expect((await signedIn.request('GET', '/api/v1/logout')).headers.allow).toBe('POST');
      expect((await signedIn.request('PATCH', '/api/v1/session')).headers.allow).toBe('GET, HEAD');
      expect((await signedIn.request('POST', '/api/v1/sessions/abc', { body: {} })).headers.allow).toBe('DELETE');
      expect((await signedIn.request('PUT', '/api/v1/sessions/', { body: {} })).headers.allow).toBe('DELETE, GET, HEAD');
      // An unknown path stays a 404 whatever the method.
      expectJsonError(await signedIn.request('PUT', '/api/v1/nope', { body: {} }), 404, 'not_found');
    });

    it('pages: a wrong method or a form the server cannot read get a readable error page', async () => {
      const get = await client.request('GET', '/logout');
      expect(get.status).toBe(405);
      expect(get.headers.allow).toBe('POST');
      expect(get.headers['content-type']).toContain('text/html');
      expect(get.body).toContain('/logout does not answer GET; it answers POST.');
      const multipart = await client.post('/login', '--x\r\n', {
        headers: { 'content-type': 'multipart/form-data; boundary=x', origin: h.origin },
      });
      expect(multipart.status).toBe(415);
      expect(multipart.headers['content-type']).toContain('text/html');
      expect(multipart.body).toContain('This form arrived in a format twofold does not read.');
      expect(multipart.body).not.toContain('application/json');
    });
  });

  describe('session cookies and Bearer tokens', () => {
    const garbage = [
      ['garbage', 'garbage'],
      ['an unknown well-formed token', UNKNOWN_TOKEN],
      ['a token one character short', UNKNOWN_TOKEN.slice(1)],
      ['an oversized token (8000 characters)', 'A'.repeat(8000)],
      ['percent-encoded junk', '%00%ff%2e%2e'],
      ['a SQL fragment', "x' OR '1'='1"],
    ] as const;

    it.each(garbage)('a session cookie holding %s → 401 unauthenticated', async (_label, value) => {
      const res = await client.get('/api/v1/session', { cookies: { [client.names.session]: value } });
      expectJsonError(res, 401, 'unauthenticated');
      // A cookie-authenticated write with a same-origin Origin gets past CSRF and is refused by the session check.
      expectJsonError(
        await client.delete('/api/v1/sessions', { cookies: { [client.names.session]: value }, csrf: 'origin' }),
        401,
        'unauthenticated',
      );
      expectNothingStored();
    });

    it.each(garbage)('a Bearer token holding %s → 401 unauthenticated', async (_label, value) => {
      expectJsonError(await client.get('/api/v1/session', { bearer: value }), 401, 'unauthenticated');
      expectJsonError(await client.post('/api/v1/factors/totp', undefined, { bearer: value }), 401, 'unauthenticated');
      expectNothingStored();
    });

    it('other Authorization schemes and an empty Bearer → 401', async () => {
      for (const authorization of [
        'Bearer ',
        'Bearer',
        `Basic ${Buffer.from('carol:pw').toString('base64')}`,
        `bearer ${signedIn.sessionToken}`,
        `Token ${signedIn.sessionToken}`,
      ]) {
        expectJsonError(await client.get('/api/v1/session', { headers: { authorization } }), 401, 'unauthenticated');
      }
      expectNothingStored();
    });

    it('a bad Bearer token is not rescued by a good session cookie', async () => {
      const res = await client.get('/api/v1/session', {
        cookies: { [client.names.session]: signedIn.sessionToken! },
        headers: { authorization: `Bearer ${UNKNOWN_TOKEN}` },
      });
      expectJsonError(res, 401, 'unauthenticated');
    });

    it('a garbage pending-login cookie → 401 pending_login_invalid', async () => {
      for (const value of ['garbage', UNKNOWN_TOKEN, 'A'.repeat(8000)]) {
        const res = await client.secondFactor('totp', '123456', { cookies: { [client.names.pending]: value }, csrf: 'origin' });
        expectJsonError(res, 401, 'pending_login_invalid');
      }
      expectJsonError(await client.secondFactor('totp', '123456'), 401, 'pending_login_invalid');
      expectNothingStored();
    });
  });

  describe('pending sign-ins', () => {
    it('expire after 5 minutes: the right code is then refused with 401 pending_login_invalid', async () => {
      h.clock.advance(30_000);
      const pending = new ApiClient(h);
      expect((await pending.login('carol', STRONG_PASSWORD)).body.state).toBe('second_factor_required');
      h.clock.advance(5 * MINUTE);
      before = db.snapshot();
      const res = await pending.secondFactor('totp', totpAt(carol.secret, h.clock.now()));
      expectJsonError(res, 401, 'pending_login_invalid');
      expect(pending.sessionToken).toBeUndefined();
      expectNothingStored();
    });

    it('are single use: the same pending cookie after a successful sign-in → 401', async () => {
      h.clock.advance(30_000);
      const pending = new ApiClient(h);
      await pending.login('carol', STRONG_PASSWORD);
      const pendingToken = pending.pendingToken!;
      expect((await pending.secondFactor('totp', totpAt(carol.secret, h.clock.now()))).status).toBe(200);
      expect(pending.pendingToken).toBeUndefined(); // the success cleared it

      h.clock.advance(30_000);
      before = db.snapshot();
      const replay = new ApiClient(h);
      const res = await replay.secondFactor('totp', totpAt(carol.secret, h.clock.now()), {
        cookies: { [replay.names.pending]: pendingToken },
        csrf: 'origin',
      });
      expectJsonError(res, 401, 'pending_login_invalid');
      expectNothingStored();
    });

    it('allow 5 code attempts: the 5th wrong one ends the pending sign-in, the 6th is refused (too_many_attempts)', async () => {
      h.clock.advance(30_000);
      const pending = new ApiClient(h);
      await pending.login('carol', STRONG_PASSWORD);
      const right = totpAt(carol.secret, h.clock.now());
      const wrong = right === '000000' ? '111111' : '000000';
      for (let attempt = 1; attempt <= 4; attempt++) {
        const res = await pending.secondFactor('totp', wrong);
        expectJsonError(res, 401, 'invalid_code');
        expect(res.body.error.attempts_left).toBe(5 - attempt);
      }
      expectJsonError(await pending.secondFactor('totp', wrong), 401, 'too_many_attempts');

      before = db.snapshot();
      expectJsonError(await pending.secondFactor('totp', right), 401, 'too_many_attempts');
      expect(pending.sessionToken).toBeUndefined();
      expectNothingStored();
    });

    it('the 5th attempt still counts when it is the right code', async () => {
      h.clock.advance(30_000);
      const pending = new ApiClient(h);
      await pending.login('carol', STRONG_PASSWORD);
      const right = totpAt(carol.secret, h.clock.now());
      const wrong = right === '000000' ? '111111' : '000000';
      for (let attempt = 1; attempt <= 4; attempt++) await pending.secondFactor('totp', wrong);
      expect((await pending.secondFactor('totp', right)).status).toBe(200);
    });
  });
});

describe('the one-time setup link', () => {
  let h: Harness;
  let db: StoredRows;
  beforeAll(async () => {
    h = await startHarness();
    db = new StoredRows(h.deps.config.sqlitePath);
  });
  afterAll(async () => {
    db?.close();
    await h?.close();
  });
  const tokenOf = (link: string | null) => new URL(link!).searchParams.get('token')!;
  const setup = (token: string, username = 'admin', password = STRONG_PASSWORD) =>
    new ApiClient(h).post('/api/v1/setup', { token, username, password });

  it('expired (after 1 h) → 410 setup_link_invalid, and no user is created', async () => {
    const token = tokenOf(await issueSetupLinkIfNeeded(h.deps));
    h.clock.advance(60 * MINUTE);
    const before = db.snapshot();
    expectJsonError(await setup(token), 410, 'setup_link_invalid');
    expect(db.snapshot()).toEqual(before);
    expect(db.count('users')).toBe(0);
  });

  it('unknown or malformed → 410; a rejected password does not burn the link; used once → 410 after', async () => {
    const token = tokenOf(await issueSetupLinkIfNeeded(h.deps));
    for (const bad of [UNKNOWN_TOKEN, 'short', 'x'.repeat(128)]) expectJsonError(await setup(bad), 410, 'setup_link_invalid');
    expectJsonError(await setup('x'.repeat(129)), 400, 'bad_request');

    expectJsonError(await setup(token, 'admin', 'password'), 400, 'password_rejected');
    expectJsonError(await setup(token, 'not a name!', STRONG_PASSWORD), 400, 'bad_request');
    expect(db.count('users')).toBe(0);

    const done = await setup(token);
    expect(done.status).toBe(200);
    expect(done.body.state).toBe('enrollment_required');
    expect(db.count('users')).toBe(1);

    const before = db.snapshot();
    expectJsonError(await setup(token, 'admin2'), 410, 'setup_link_invalid');
    expect(db.snapshot()).toEqual(before);
    // With an administrator in place, no new link is issued.
    expect(await issueSetupLinkIfNeeded(h.deps)).toBeNull();
  });
});
