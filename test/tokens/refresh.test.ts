import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionId } from '../../src/core/ids.js';
import { startHarness, type Harness } from '../support/harness.js';
import { ApiClient, StoredRows, expectJsonError, type EnrolledUser } from '../http/client.js';
import { enrolledUser, refresh, tokenSignIn } from './support.js';

/**
 * Tokens for APIs, SPAs and mobile apps, over the HTTP API of a real twofold (SQLite file, or
 * PostgreSQL via test/tokens/postgres.test.ts) with a manual clock.
 */

const MINUTE = 60_000;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('token sign-in and refresh-token rotation', () => {
  let h: Harness;
  let alice: EnrolledUser;
  let app: ApiClient;

  beforeEach(async () => {
    h = await startHarness({ overrides: { tokens: { refresh_idle_timeout: '1h', refresh_absolute_lifetime: '3h' } } });
    alice = await enrolledUser(h);
    app = new ApiClient(h, { userAgent: 'vitest mobile app/1.0' });
  });
  afterEach(async () => {
    await h?.close();
  });

  it('a sign-in with session_type "tokens" answers tokens and sets no cookie, at both steps', async () => {
    const { login, reply } = await tokenSignIn(h, app, alice);
    // No session, pending-login or CSRF cookie (the risk engine's device cookie is not a credential).
    const credentials = [app.names.session, app.names.pending, app.names.csrf];
    expect(login.setCookies.map((c) => c.name).filter((name) => credentials.includes(name))).toEqual([]);
    expect(login.body.pending_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(reply.setCookies.map((c) => c.name).filter((name) => credentials.includes(name))).toEqual([]);
    expect(reply.body).toEqual({
      state: 'authenticated',
      access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
      refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      token_type: 'Bearer',
      expires_in: 600,
    });

    const header = decodeProtectedHeader(reply.body.access_token);
    expect(header).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt', kid: expect.any(String) });
    const claims = decodeJwt(reply.body.access_token);
    const now = Math.floor(h.clock.now() / 1000);
    expect(claims).toMatchObject({
      iss: h.origin,
      sub: expect.stringMatching(/^usr_/),
      sid: expect.stringMatching(/^ses_/),
      aal: 2,
      amr: ['pwd', 'otp'],
      acr: 'http://idmanagement.gov/ns/assurance/aal/2',
      jti: expect.any(String),
      iat: now,
      exp: now + 600,
    });
    expect(claims.auth_time).toBe(now);
    expect(claims.aud).toBeUndefined();

    // The access token is accepted as Authorization: Bearer and names the same session.
    const session = await app.get('/api/v1/session', { bearer: reply.body.access_token });
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({ id: claims.sid, aal: 2, amr: ['pwd', 'otp'], user: { username: 'alice' } });
  });

  it('stores only the SHA-256 of refresh tokens, never the tokens', async () => {
    const { reply } = await tokenSignIn(h, app, alice);
    const next = await refresh(app, reply.body.refresh_token);
    expect(next.status).toBe(200);
    // PostgreSQL runs this file too (postgres.test.ts); there the rows are checked by the store contract.
    if (h.deps.config.store.kind !== 'sqlite') return;
    const rows = new StoredRows(h.deps.config.sqlitePath);
    try {
      const hashes = rows.rows('refresh_tokens').map((row) => row.token_hash);
      expect(hashes.sort()).toEqual([sha256(reply.body.refresh_token), sha256(next.body.refresh_token)].sort());
      const file =
        readFileSync(h.deps.config.sqlitePath).toString('latin1') + readFileSync(`${h.deps.config.sqlitePath}-wal`).toString('latin1');
      expect(file).not.toContain(reply.body.refresh_token);
      expect(file).not.toContain(next.body.refresh_token);
    } finally {
      rows.close();
    }
  });

  it('rotates the refresh token on every use: each works once and brings a new pair', async () => {
    const { reply } = await tokenSignIn(h, app, alice);
    let current = reply.body;
    const seen = new Set([current.refresh_token]);
    for (let i = 0; i < 3; i++) {
      h.clock.advance(5 * MINUTE);
      const next = await refresh(app, current.refresh_token, i % 2 === 1);
      expect(next.status, JSON.stringify(next.body)).toBe(200);
      expect(next.headers['cache-control']).toBe('no-store');
      expect(next.body).toEqual({
        access_token: expect.any(String),
        refresh_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        token_type: 'Bearer',
        expires_in: 600,
      });
      expect(seen.has(next.body.refresh_token)).toBe(false);
      seen.add(next.body.refresh_token);
      // Same session, same authentication facts; a new jti.
      expect(decodeJwt(next.body.access_token)).toMatchObject({
        sid: decodeJwt(reply.body.access_token).sid,
        auth_time: decodeJwt(reply.body.access_token).auth_time,
      });
      expect(decodeJwt(next.body.access_token).jti).not.toBe(decodeJwt(current.access_token).jti);
      expect((await app.get('/api/v1/session', { bearer: next.body.access_token })).status).toBe(200);
      current = { ...next.body, state: 'authenticated' };
    }
  });

  it('a used refresh token presented again revokes the family and its session and records the theft', async () => {
    const { reply } = await tokenSignIn(h, app, alice);
    const sid = decodeJwt(reply.body.access_token).sid as SessionId;
    const legit = await refresh(app, reply.body.refresh_token);
    expect(legit.status).toBe(200);

    // The thief (or the client, confused) replays the first token.
    const thief = new ApiClient(h, { ip: '203.0.113.9', userAgent: 'curl/8.0' });
    const replay = await refresh(thief, reply.body.refresh_token);
    expectJsonError(replay, 400, 'invalid_grant');
    expect(replay.body.error?.reason).toBe('reused');

    // Everything of that sign-in stops: the newest refresh token, and access tokens at twofold at once.
    expectJsonError(await refresh(app, legit.body.refresh_token), 400, 'invalid_grant');
    const session = await app.get('/api/v1/session', { bearer: legit.body.access_token });
    expectJsonError(session, 401, 'unauthenticated');
    expect(session.body.error.reason).toBe('revoked');
    expect((await h.deps.store.sessions.findById(sid))?.revokedReason).toBe('refresh_token_reused');

    const events = await h.deps.store.events.list({ limit: 20 });
    const theft = events.find((e) => e.type === 'token.theft_detected');
    expect(theft).toMatchObject({
      outcome: 'failure',
      sessionId: sid,
      reason: 'refresh_token_reused',
      ip: '203.0.113.9',
      userAgent: 'curl/8.0',
    });
    expect(events.some((e) => e.type === 'session.revoked' && e.sessionId === sid && e.reason === 'refresh_token_reused')).toBe(true);
    // The event never carries the token.
    expect(JSON.stringify(events)).not.toContain(reply.body.refresh_token);
  });

  it('two concurrent refreshes with the same token: exactly one wins; the loser gets invalid_grant and the family ends', async () => {
    const { reply } = await tokenSignIn(h, app, alice);
    const tabs = [new ApiClient(h, { userAgent: 'tab 1' }), new ApiClient(h, { userAgent: 'tab 2' })];
    const answers = await Promise.all(tabs.map((tab) => refresh(tab, reply.body.refresh_token)));
    const winners = answers.filter((a) => a.status === 200);
    const losers = answers.filter((a) => a.status !== 200);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    expectJsonError(losers[0]!, 400, 'invalid_grant');
    expect(losers[0]!.body.error?.reason).toBe('reused');
    // Documented (docs/tokens.md): the server cannot tell a racing tab from a thief, so the
    // winner's pair dies with the family. Clients refresh from one place at a time.
    expectJsonError(await refresh(app, winners[0]!.body.refresh_token), 400, 'invalid_grant');
    expect((await app.get('/api/v1/session', { bearer: winners[0]!.body.access_token })).status).toBe(401);
    expect((await h.deps.store.events.list({ limit: 20 })).filter((e) => e.type === 'token.theft_detected')).toHaveLength(1);
  });

  it('many concurrent refreshes with one token: still exactly one pair is issued', async () => {
    const { reply } = await tokenSignIn(h, app, alice);
    const answers = await Promise.all(Array.from({ length: 8 }, () => refresh(app, reply.body.refresh_token)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 400 && a.body.error?.code === 'invalid_grant')).toHaveLength(7);
  });

  it('a family ends after its inactivity timeout, and after its absolute lifetime however active', async () => {
    // Two sign-ins at once: one app goes quiet, the other refreshes every 50 minutes.
    const quiet = (await tokenSignIn(h, app, alice)).reply.body;
    const busy = (await tokenSignIn(h, app, alice)).reply.body;
    let token = busy.refresh_token;
    let elapsed = 0;
    const step = async (minutes: number) => {
      h.clock.advance(minutes * MINUTE);
      elapsed += minutes;
      const next = await refresh(app, token);
      expect(next.status, `after ${elapsed} min`).toBe(200);
      token = next.body.refresh_token;
    };
    await step(50);
    h.clock.advance(11 * MINUTE);
    elapsed += 11;
    const idle = await refresh(app, quiet.refresh_token);
    expectJsonError(idle, 400, 'invalid_grant');
    expect(idle.body.error?.reason).toBe('expired');

    await step(39); // 100 min
    await step(50); // 150 min
    await step(25); // 175 min
    h.clock.advance(10 * MINUTE); // 185 min after sign-in: past the 3 h absolute lifetime
    const late = await refresh(app, token);
    expectJsonError(late, 400, 'invalid_grant');
    expect(late.body.error?.reason).toBe('expired');
  });

  it('refuses junk, unknown tokens and other grant types with a 4xx, never a 500', async () => {
    expectJsonError(await refresh(app, 'A'.repeat(43)), 400, 'invalid_grant');
    expectJsonError(await refresh(app, 'not a token'), 400, 'invalid_grant');
    expectJsonError(
      await app.post('/api/v1/token', { grant_type: 'password', refresh_token: 'x' }, { noCookies: true }),
      400,
      'unsupported_grant_type',
    );
    expectJsonError(await app.post('/api/v1/token', { grant_type: 'refresh_token' }, { noCookies: true }), 400, 'bad_request');
    expectJsonError(
      await app.post('/api/v1/token', { grant_type: 'refresh_token', refresh_token: 'x'.repeat(5000) }, { noCookies: true }),
      400,
      'bad_request',
    );
  });

  it('a session cookie sign-in is unchanged: no tokens unless asked for', async () => {
    h.clock.advance(30_000);
    const browser = new ApiClient(h);
    const login = await browser.login(alice.username, alice.password);
    expect(login.body).toEqual({ state: 'second_factor_required', methods: ['totp', 'recovery_code'], expires_at: expect.any(String) });
    expect(browser.pendingToken).toBeDefined();
  });
});
