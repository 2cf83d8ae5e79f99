import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthDeps } from '../../src/auth/deps.js';
import { addUser } from '../../src/auth/users.js';
import { buildServer } from '../../src/http/server.js';
import type { User } from '../../src/store/store.js';
import { ApiClient, enrollTotp, signInWithTotp, STRONG_PASSWORD, type ApiReply, type EnrolledUser } from '../http/client.js';
import { freePort, startHarness, type Harness } from '../support/harness.js';
import { Receiver, verifyStandardWebhook, waitFor } from './receiver.js';

/**
 * Webhooks end to end on the SQLite store: an administrator registers a real HTTP receiver through
 * the admin API, users sign in and are revoked through the public API, and the worker started with
 * the server delivers signed messages, retrying with backoff while the receiver is down. The clock
 * is manual: retries fall due when the test moves it.
 */

const SECOND = 1000;

describe('webhooks over HTTP (SQLite)', () => {
  let h: Harness;
  let app: FastifyInstance;
  let deps: AuthDeps;
  let receiver: Receiver;
  let admin: ApiClient;
  let aliceUser: User;
  let alice: EnrolledUser;
  let endpointId: string;
  let secret: string;
  const logLines: string[] = [];
  /** Every admin API answer after the endpoint's creation: none may carry its secret. */
  const laterAnswers: ApiReply[] = [];

  const target = () => ({ app, deps, origin: h.origin, clock: h.clock });
  const nowSeconds = () => Math.floor(h.clock.now() / 1000);
  const deliveries = async (id = endpointId) => {
    const reply = await admin.get(`/api/v1/admin/webhooks/${id}/deliveries?limit=100`);
    laterAnswers.push(reply);
    expect(reply.status).toBe(200);
    return reply.body.deliveries as Array<Record<string, any>>;
  };
  /** Signs alice in on a fresh client and returns it with its session id. */
  const aliceSignsIn = async () => {
    const client = new ApiClient(target(), {
      ip: '203.0.113.7',
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
    });
    expect((await signInWithTotp(h, client, alice)).status).toBe(200);
    const session = await client.session();
    return { client, sessionId: session.body.id as string };
  };

  beforeAll(async () => {
    receiver = new Receiver(await freePort());
    await receiver.start();
    h = await startHarness({
      overrides: {
        // The harness's own server runs no worker; the one built below does, with its log captured.
        'webhooks.deliver': false,
        'webhooks.poll_interval': '20ms',
        'webhooks.max_attempts': 4,
        'session.sensitive_max_age': '6h',
        'session.idle_timeout': '6h',
      },
    });
    deps = { ...h.deps, config: { ...h.deps.config, webhooks: { ...h.deps.config.webhooks, deliver: true } } };
    app = await buildServer(deps, { logger: { level: 'debug', stream: { write: (line: string) => logLines.push(line) } } });
    await app.ready();

    await addUser(deps, { username: 'root', password: STRONG_PASSWORD, isAdmin: true }, null);
    aliceUser = await addUser(deps, { username: 'alice', password: STRONG_PASSWORD, isAdmin: false }, null);
    admin = new ApiClient(target(), { ip: '198.51.100.10' });
    await enrollTotp(target(), admin, 'root', STRONG_PASSWORD);
    alice = await enrollTotp(target(), new ApiClient(target(), { ip: '203.0.113.7' }), 'alice', STRONG_PASSWORD);
  });

  afterAll(async () => {
    await app?.close();
    await h?.close();
    await receiver?.stop();
  });

  it('adds an endpoint through the admin API, showing its secret once and storing it sealed', async () => {
    const created = await admin.post('/api/v1/admin/webhooks', {
      url: receiver.url,
      events: ['session.revoked', 'session.created'],
      description: 'SIEM',
    });
    expect(created.status).toBe(201);
    expect(created.body.endpoint).toMatchObject({
      id: expect.stringMatching(/^whk_/),
      url: receiver.url,
      events: ['session.revoked', 'session.created'],
      description: 'SIEM',
    });
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    endpointId = created.body.endpoint.id;
    secret = created.body.secret;

    const list = await admin.get('/api/v1/admin/webhooks');
    laterAnswers.push(list);
    expect(list.status).toBe(200);
    expect(list.body.endpoints).toEqual([
      expect.objectContaining({ id: endpointId, deliveries: { pending: 0, delivered: 0, failed: 0, last_attempt_at: null } }),
    ]);
    expect(list.body.event_types).toContain('token.theft_detected');
    expect(await deliveries()).toEqual([]);

    // At rest: sealed, neither the secret nor its key readable in the database file.
    const db = new Database(join(h.dataDir, 'twofold.db'), { readonly: true });
    const rows = JSON.stringify(db.prepare('select * from webhook_endpoints').all());
    db.close();
    expect(rows).toContain(endpointId);
    expect(rows).not.toContain(secret);
    expect(rows).not.toContain(secret.slice('whsec_'.length));

    // The change is in the audit trail.
    const events = await admin.get('/api/v1/admin/events?type=webhook.*');
    expect(events.body.events[0]).toMatchObject({ type: 'webhook.endpoint_added', detail: { endpoint: endpointId } });
  });

  it('delivers a sign-in and a revocation, signed per Standard Webhooks, with ids and outcomes only', async () => {
    const { client, sessionId } = await aliceSignsIn();
    expect((await admin.delete(`/api/v1/admin/sessions/${sessionId}`)).status).toBe(204);

    const [revoked] = await waitFor(
      'the session.revoked message',
      () => receiver.ofType('session.revoked').length === 1 && receiver.ofType('session.revoked'),
    );
    expect(verifyStandardWebhook(secret, revoked!.headers, revoked!.body, nowSeconds())).toBe(true);
    expect(revoked!.headers['content-type']).toBe('application/json');
    expect(revoked!.headers['webhook-id']).toMatch(/^msg_/);
    expect(revoked!.json).toEqual({
      type: 'session.revoked',
      timestamp: new Date(h.clock.now()).toISOString(),
      data: {
        event_id: expect.any(Number),
        outcome: 'success',
        user_id: aliceUser.id,
        session_id: sessionId,
        reason: 'revoked_by_admin',
        ip: '198.51.100.10',
        detail: {},
      },
    });
    // The event id is the audit trail's.
    const audit = await admin.get(`/api/v1/admin/events?type=session.revoked`);
    expect(audit.body.events[0].id).toBe(revoked!.json.data.event_id);

    const created = receiver.ofType('session.created').find((m) => m.json.data.session_id === sessionId);
    expect(created).toBeDefined();
    expect(verifyStandardWebhook(secret, created!.headers, created!.body, nowSeconds())).toBe(true);
    expect(created!.json.data).toMatchObject({ outcome: 'success', user_id: aliceUser.id, detail: { aal: 2, amr: ['pwd', 'otp'] } });
    // Not subscribed: the sign-in steps and the risk decision stayed inside.
    expect(receiver.received.map((r) => JSON.parse(r.body).type)).not.toContain('login.password');
    // No bearer secret of the session travels in a payload.
    for (const message of receiver.received) expect(message.body).not.toContain(client.sessionToken!);

    // The receiver answered before the worker recorded it: the log follows a moment later.
    const entry = await waitFor('the delivery recorded', async () =>
      (await deliveries()).find((d) => d.event_type === 'session.revoked' && d.status === 'delivered'),
    );
    expect(entry).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 204, message_id: revoked!.headers['webhook-id'] });
    expect(entry.log).toEqual([{ attempt: 1, at: expect.any(String), status_code: 204, error: null, duration_ms: expect.any(Number) }]);
  });

  it('retries with exponential backoff while the receiver is down, and delivers once it is back', async () => {
    await receiver.stop();
    const before = receiver.received.length;
    const { sessionId } = await aliceSignsIn();
    expect((await admin.delete(`/api/v1/admin/sessions/${sessionId}`)).status).toBe(204);
    const revokedAt = h.clock.now();
    const ofThisEvent = async () => (await deliveries()).find((d) => d.event_type === 'session.revoked' && d.status !== 'delivered');

    const first = await waitFor('the first failed attempt', async () => {
      const d = await ofThisEvent();
      // The attempt is logged when its outcome is recorded (while in flight, next_attempt_at is the lease's end).
      return d?.log.length === 1 && d;
    });
    expect(first).toMatchObject({ status: 'pending', last_status_code: null, last_error: 'ECONNREFUSED' });
    // First retry: 5 s ± 20%.
    const firstWait = Date.parse(first.next_attempt_at) - revokedAt;
    expect(firstWait).toBeGreaterThanOrEqual(4 * SECOND);
    expect(firstWait).toBeLessThanOrEqual(6 * SECOND);

    // Not due yet: nothing happens however long the worker polls.
    await new Promise((r) => setTimeout(r, 200));
    expect((await ofThisEvent())!.attempts).toBe(1);

    h.clock.set(Date.parse(first.next_attempt_at));
    const second = await waitFor('the second failed attempt', async () => {
      const d = await ofThisEvent();
      return d?.log.length === 2 && d;
    });
    // Second retry: 5 s × 5 = 25 s ± 20%.
    const secondWait = Date.parse(second.next_attempt_at) - h.clock.now();
    expect(secondWait).toBeGreaterThanOrEqual(20 * SECOND);
    expect(secondWait).toBeLessThanOrEqual(30 * SECOND);

    await receiver.start();
    h.clock.set(Date.parse(second.next_attempt_at));
    const delivered = await waitFor('the delivery after the receiver came back', async () =>
      (await deliveries()).find((d) => d.id === second.id && d.status === 'delivered'),
    );
    expect(delivered.log.map((a: { status_code: number | null; error: string | null }) => [a.status_code, a.error])).toEqual([
      [null, 'ECONNREFUSED'],
      [null, 'ECONNREFUSED'],
      [204, null],
    ]);
    // The sign-in's session.created was queued while the receiver was down too: only the revocation is looked at here.
    const arrived = receiver.received.slice(before).filter((m) => JSON.parse(m.body).type === 'session.revoked');
    expect(arrived).toHaveLength(1);
    expect(arrived[0]!.headers['webhook-id']).toBe(delivered.message_id);
    expect(JSON.parse(arrived[0]!.body).data.session_id).toBe(sessionId);
    expect(verifyStandardWebhook(secret, arrived[0]!.headers, arrived[0]!.body, nowSeconds())).toBe(true);
  });

  it('sends a test message on demand, and gives up after max_attempts when the receiver keeps failing', async () => {
    const ok = await admin.post(`/api/v1/admin/webhooks/${endpointId}/test`);
    laterAnswers.push(ok);
    expect(ok.status).toBe(200);
    expect(ok.body.delivery).toMatchObject({ event_type: 'webhook.test', status: 'delivered', attempts: 1, last_status_code: 204 });
    const message = receiver.ofType('webhook.test').at(-1)!;
    expect(verifyStandardWebhook(secret, message.headers, message.body, nowSeconds())).toBe(true);
    expect(message.json.data).toEqual({ endpoint_id: endpointId });

    receiver.status = 503;
    try {
      const failing = await admin.post(`/api/v1/admin/webhooks/${endpointId}/test`);
      laterAnswers.push(failing);
      expect(failing.body.delivery).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 503, last_error: 'HTTP 503' });
      const id = failing.body.delivery.id as string;
      let entry: Record<string, any> = failing.body.delivery;
      for (let attempt = 2; attempt <= 4; attempt++) {
        h.clock.set(Date.parse(entry.next_attempt_at));
        entry = await waitFor(`attempt ${attempt}`, async () => (await deliveries()).find((d) => d.id === id && d.log.length === attempt));
      }
      expect(entry).toMatchObject({ status: 'failed', attempts: 4, next_attempt_at: null, last_status_code: 503 });
      expect(entry.log).toHaveLength(4);
      await waitFor('the give-up warning', () => logLines.some((line) => line.includes('webhook delivery given up') && line.includes(id)));
    } finally {
      receiver.status = 204;
    }
    // The attempts are counted for Prometheus too (docs/admin.md).
    const metrics = await h.deps.metrics!.registry.getSingleMetricAsString('twofold_webhook_attempts_total');
    const count = (result: string) => Number(new RegExp(`result="${result}"} (\\d+)`).exec(metrics)?.[1] ?? 0);
    expect(count('delivered')).toBeGreaterThanOrEqual(1);
    expect(count('retry')).toBeGreaterThanOrEqual(3);
    expect(count('failed')).toBeGreaterThanOrEqual(1);
    const list = await admin.get('/api/v1/admin/webhooks');
    laterAnswers.push(list);
    // At least this one (a session.created queued while the receiver was down may have failed with it).
    expect(list.body.endpoints[0].deliveries.failed).toBeGreaterThanOrEqual(1);
  });

  it('answers bad admin input with a 4xx JSON error, never a 5xx', async () => {
    const cases: Array<[method: string, url: string, body: unknown, status: number, message?: string]> = [
      ['POST', '/api/v1/admin/webhooks', { url: 'ftp://example.com/in', events: ['*'] }, 400, 'only http and https'],
      ['POST', '/api/v1/admin/webhooks', { url: 'javascript:alert(1)', events: ['*'] }, 400, 'only http and https'],
      ['POST', '/api/v1/admin/webhooks', { url: 'not a url', events: ['*'] }, 400, 'not an absolute URL'],
      ['POST', '/api/v1/admin/webhooks', { url: 'https://u:p@example.com/', events: ['*'] }, 400, 'user name or password'],
      ['POST', '/api/v1/admin/webhooks', { url: 'https://example.com/', events: ['session.revokd'] }, 400, 'session.revokd'],
      ['POST', '/api/v1/admin/webhooks', { url: 'https://example.com/', events: [] }, 400],
      ['POST', '/api/v1/admin/webhooks', { url: 'https://example.com/', events: 'session.revoked' }, 400],
      ['POST', '/api/v1/admin/webhooks', { url: 'https://example.com/', events: ['SESSION REVOKED'] }, 400],
      ['POST', '/api/v1/admin/webhooks', { events: ['*'] }, 400],
      ['POST', '/api/v1/admin/webhooks', { url: 'https://example.com/', events: ['*'], secret: 'whsec_mine' }, 400],
      ['POST', '/api/v1/admin/webhooks', { url: 'https://example.com/', events: ['*'], description: 'x'.repeat(201) }, 400],
      ['DELETE', '/api/v1/admin/webhooks/whk_nonexistent', undefined, 404],
      ['GET', '/api/v1/admin/webhooks/whk_nonexistent/deliveries', undefined, 404],
      ['GET', `/api/v1/admin/webhooks/${endpointId}/deliveries?limit=0`, undefined, 400],
      ['GET', `/api/v1/admin/webhooks/${endpointId}/deliveries?limit=lots`, undefined, 400],
      ['POST', '/api/v1/admin/webhooks/whk_nonexistent/test', undefined, 404],
      ['DELETE', `/api/v1/admin/webhooks/${'x'.repeat(100)}`, undefined, 400],
    ];
    for (const [method, url, body, status, message] of cases) {
      const reply = await admin.request(method, url, body === undefined ? {} : { body });
      expect(reply.status, `${method} ${url} ${JSON.stringify(body)}`).toBe(status);
      expect(reply.headers['content-type']).toMatch(/application\/json/);
      expect(reply.body.error.code).toEqual(expect.any(String));
      if (message) expect(reply.body.error.message).toContain(message);
    }
    const broken = await admin.post('/api/v1/admin/webhooks', '{"url": "https://example.com/", ', {
      headers: { 'content-type': 'application/json' },
    });
    expect(broken.status).toBe(400);
    expect(broken.body.error.code).toBe('bad_request');
    expect((await admin.get('/api/v1/admin/webhooks')).body.endpoints).toHaveLength(1);
  });

  it('is for administrators only, and refuses cross-site writes', async () => {
    const { client } = await aliceSignsIn();
    const anonymous = new ApiClient(target());
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/api/v1/admin/webhooks'],
      ['POST', '/api/v1/admin/webhooks', { url: 'https://evil.example/', events: ['*'] }],
      ['DELETE', `/api/v1/admin/webhooks/${endpointId}`],
      ['GET', `/api/v1/admin/webhooks/${endpointId}/deliveries`],
      ['POST', `/api/v1/admin/webhooks/${endpointId}/test`],
    ];
    for (const [method, url, body] of routes) {
      expect((await client.request(method, url, { body })).status, `${method} ${url} as a user`).toBe(403);
      expect((await anonymous.request(method, url, { body })).status, `${method} ${url} anonymously`).toBe(401);
    }
    const noToken = await admin.post('/api/v1/admin/webhooks', { url: 'https://evil.example/', events: ['*'] }, { csrf: 'none' });
    expect(noToken.status).toBe(403);
    expect(noToken.body.error.code).toBe('csrf_failed');
    const foreign = await admin.request('DELETE', `/api/v1/admin/webhooks/${endpointId}`, {
      csrf: 'none',
      headers: { origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(403);
    expect((await admin.get('/api/v1/admin/webhooks')).body.endpoints).toHaveLength(1);
  });

  it('documents the routes in /openapi.json', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/admin/webhooks',
        '/api/v1/admin/webhooks/{id}',
        '/api/v1/admin/webhooks/{id}/deliveries',
        '/api/v1/admin/webhooks/{id}/test',
      ]),
    );
    expect(doc.paths['/api/v1/admin/webhooks'].post.requestBody).toBeDefined();
  });

  it('never shows the secret again: not in later answers, logs or messages', async () => {
    const key = secret.slice('whsec_'.length);
    for (const reply of laterAnswers) {
      expect(reply.raw.body).not.toContain(key);
    }
    expect(logLines.length).toBeGreaterThan(0);
    for (const line of logLines) expect(line).not.toContain(key);
    for (const message of receiver.received) expect(message.body + JSON.stringify(message.headers)).not.toContain(key);
  });

  it('removes an endpoint with its deliveries; later events queue nothing for it', async () => {
    expect((await admin.delete(`/api/v1/admin/webhooks/${endpointId}`)).status).toBe(204);
    expect((await admin.get('/api/v1/admin/webhooks')).body.endpoints).toEqual([]);
    expect((await admin.get(`/api/v1/admin/webhooks/${endpointId}/deliveries`)).status).toBe(404);
    const before = receiver.received.length;
    await aliceSignsIn();
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.received.length).toBe(before);
    const db = new Database(join(h.dataDir, 'twofold.db'), { readonly: true });
    expect(db.prepare('select count(*) as n from webhook_deliveries').get()).toEqual({ n: 0 });
    db.close();
  });
});
