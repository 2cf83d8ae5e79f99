import { generateKeyPairSync } from 'node:crypto';
import { decodeJwt, SignJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/core/ids.js';
import { startHarness, type Harness } from '../support/harness.js';
import { ApiClient, expectJsonError, type EnrolledUser } from '../http/client.js';
import { enrolledUser, tokenSignIn, type TokenPair } from './support.js';

/** twofold's own validation of access tokens: signature, claims, expiry, and the live session behind them. */

const MINUTE = 60_000;

describe('access tokens at the API', () => {
  let h: Harness;
  let alice: EnrolledUser;
  let app: ApiClient;
  let tokens: TokenPair;

  beforeEach(async () => {
    h = await startHarness({ overrides: { tokens: { audience: ['https://api.example.com'] } } });
    alice = await enrolledUser(h);
    app = new ApiClient(h, { userAgent: 'vitest SPA' });
    tokens = (await tokenSignIn(h, app, alice)).reply.body;
  });
  afterEach(async () => {
    await h?.close();
  });

  const session = (accessToken: string) => app.get('/api/v1/session', { bearer: accessToken });

  /** A token signed with twofold's own active key, with claims of the test's choosing. */
  async function signWithTwofoldKey(claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
    const key = await h.deps.keyRing.signingKey();
    return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid: key.record.kid, typ: 'at+jwt', ...header }).sign(key.privateKey);
  }

  it('carries the configured audience and is accepted until it expires', async () => {
    expect(decodeJwt(tokens.access_token).aud).toBe('https://api.example.com');
    expect((await session(tokens.access_token)).status).toBe(200);
    h.clock.advance(9 * MINUTE);
    expect((await session(tokens.access_token)).status).toBe(200);
    h.clock.advance(1 * MINUTE + 1000);
    const expired = await session(tokens.access_token);
    expectJsonError(expired, 401, 'unauthenticated');
    expect(expired.body.error.reason).toBe('expired');
  });

  it('is refused the moment its session is revoked, though the JWT itself has not expired', async () => {
    const claims = decodeJwt(tokens.access_token);
    expect((await session(tokens.access_token)).status).toBe(200); // now cached
    // The user signs the app's session out from their browser's session list.
    const browser = new ApiClient(h);
    h.clock.advance(30_000);
    await browser.login(alice.username, alice.password);
    const { totpAt } = await import('../http/client.js');
    expect((await browser.secondFactor('totp', totpAt(alice.secret, h.clock.now()))).status).toBe(200);
    expect((await browser.delete(`/api/v1/sessions/${claims.sid as string}`)).status).toBe(204);

    const refused = await session(tokens.access_token);
    expectJsonError(refused, 401, 'unauthenticated');
    expect(refused.body.error.reason).toBe('revoked');
  });

  it('is refused after logout with it, and so is its refresh token', async () => {
    expect((await app.post('/api/v1/logout', undefined, { bearer: tokens.access_token })).status).toBe(204);
    expect((await session(tokens.access_token)).body.error.reason).toBe('revoked');
    const again = await app.post(
      '/api/v1/token',
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token },
      { noCookies: true },
    );
    expectJsonError(again, 400, 'invalid_grant');
  });

  it('refuses a wrong audience, a wrong issuer, a wrong type or a missing session id, even when signed by twofold', async () => {
    const good = decodeJwt(tokens.access_token);
    const control = await signWithTwofoldKey({ ...good });
    expect((await session(control)).status).toBe(200);
    for (const [label, claims, header] of [
      ['audience', { ...good, aud: 'https://other.example.com' }, {}],
      ['no audience', { ...good, aud: undefined }, {}],
      ['issuer', { ...good, iss: 'https://evil.example.com' }, {}],
      ['typ', { ...good }, { typ: 'JWT' }],
      ['no sid', { ...good, sid: undefined }, {}],
      ['sub of another user', { ...good, sub: 'usr_someoneelse' }, {}],
      ['unknown sid', { ...good, sid: 'ses_doesnotexist' }, {}],
    ] as const) {
      const res = await session(await signWithTwofoldKey(claims, header));
      expect(res.status, label).toBe(401);
      expect(res.body.error.code, label).toBe('unauthenticated');
    }
  });

  it('refuses tampered tokens, foreign keys, alg none and HS256 confusion', async () => {
    const [header, payload, signature] = tokens.access_token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const raised = Buffer.from(JSON.stringify({ ...claims, exp: claims.exp + 3600 })).toString('base64url');
    const flipped = signature.slice(0, -2) + (signature.at(-2) === 'A' ? 'B' : 'A') + signature.at(-1);
    const foreign = generateKeyPairSync('ed25519').privateKey;
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: JSON.parse(Buffer.from(header, 'base64url').toString()).kid, typ: 'at+jwt' })
      .sign(foreign);
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${payload}.`;
    const hs256 = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
      .sign(new TextEncoder().encode(JSON.stringify((await h.deps.keyRing.jwks()).keys[0])));
    for (const [label, token] of [
      ['payload changed', `${header}.${raised}.${signature}`],
      ['signature changed', `${header}.${payload}.${flipped}`],
      ['signed by another key under our kid', forged],
      ['alg none', none],
      ['HS256 keyed with the public JWK', hs256],
      ['garbage', 'a.b.c'],
    ] as const) {
      const res = await session(token);
      expect(res.status, label).toBe(401);
      expect(res.body.error.reason, label).toMatch(/^(invalid_token|malformed)$/);
    }
    expect((await session(tokens.access_token)).status).toBe(200);
  });

  it('works at the gate (forward-auth) as Authorization: Bearer, until the session is revoked', async () => {
    const ask = (bearer?: string) =>
      app.get('/auth/request', {
        noCookies: true,
        headers: {
          'x-original-url': 'https://app.example.com/reports',
          'x-original-method': 'GET',
          ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
        },
      });
    const allowed = await ask(tokens.access_token);
    expect(allowed.status).toBe(200);
    expect(allowed.headers['remote-user']).toBe('alice');
    expect(allowed.headers['remote-session']).toBe(decodeJwt(tokens.access_token).sid);
    expect((await ask()).status).toBe(401);

    await h.deps.store.sessions.revoke(decodeJwt(tokens.access_token).sid as never, h.clock.now(), 'revoked_by_admin');
    expect((await ask(tokens.access_token)).status).toBe(401);
  });

  it('an access token is not a session token: its hash finds no session', async () => {
    expect(await h.deps.store.sessions.findByTokenHash(hashToken(tokens.access_token))).toBeUndefined();
  });
});
