import { decodeProtectedHeader, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TwofoldClient } from '../../packages/sdk/src/index.js';
import { ApiClient, signInWithTotp, type EnrolledUser } from '../http/client.js';
import { startHarness, type Harness } from '../support/harness.js';
import { enrolledUser } from '../tokens/support.js';
import { callApp, nextTotp, sdkClient, sdkSignIn, startProtectedApp, type AppReply, type Framework, type ProtectedApp } from './support.js';

const MINUTE = 60_000;
const MODES = ['offline', 'online'] as const;

/** The middleware's refusal: a JSON error with a stable code, never a 500 or an HTML page. */
function expectRefusal(reply: AppReply, status: number, code: string): void {
  expect(reply.status, JSON.stringify(reply.body)).toBe(status);
  expect(reply.headers.get('content-type')).toMatch(/^application\/json/);
  expect(reply.body.error.code).toBe(code);
  expect(typeof reply.body.error.message).toBe('string');
}

/**
 * The same specification for the Express and the Fastify middleware, each against a running twofold
 * (real HTTP, real SQLite, real Ed25519 keys), in offline (JWT + JWKS) and online (twofold) mode.
 */
export function middlewareSpec(framework: Framework): void {
  describe(`${framework} middleware against a running twofold`, () => {
    let h: Harness;
    let alice: EnrolledUser;
    let client: TwofoldClient;
    let app: ProtectedApp;

    beforeAll(async () => {
      h = await startHarness({ listen: true });
      alice = await enrolledUser(h);
      client = sdkClient(h);
      app = await startProtectedApp(h, framework);
    }, 60_000);
    afterAll(async () => {
      await app?.close();
      await h?.close();
    });

    it('lets a valid access token through with the identity, in both modes', async () => {
      const tokens = await sdkSignIn(h, client, alice);
      const current = (await client.sessions(tokens.accessToken)).find((s) => s.current)!;
      for (const mode of MODES) {
        const reply = await callApp(app, 'GET', `/${mode}/me`, { bearer: tokens.accessToken });
        expect(reply.status, JSON.stringify(reply.body)).toBe(200);
        expect(reply.body).toMatchObject({ sub: expect.stringMatching(/^usr_/), sid: current.id, aal: 2, verifiedBy: mode });
        expect([...reply.body.amr].sort()).toEqual(['otp', 'pwd']);
        // auth_time: the TOTP just proven, to the second.
        expect(Math.abs(Date.parse(reply.body.authTime) - h.clock.now())).toBeLessThan(2_000);
      }
    });

    it('answers 401 JSON, not 500, to missing, malformed, tampered and foreign tokens', async () => {
      const { accessToken } = await sdkSignIn(h, client, alice);
      const [header, payload, signature] = accessToken.split('.') as [string, string, string];
      const flipped = signature.slice(0, -2) + (signature.at(-2) === 'A' ? 'B' : 'A') + signature.at(-1);
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      // Signed by a key twofold never had, under the kid of the real one.
      const foreign = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      const forged = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: decodeProtectedHeader(accessToken).kid! })
        .sign(foreign.privateKey);
      const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${payload}.`;
      const authorizations: Array<string | undefined> = [
        undefined,
        'Bearer',
        'Basic YWxpY2U6cGFzc3dvcmQ=',
        'Bearer not-a-token',
        'Bearer a.b.c',
        `Bearer ${header}.${payload}.${flipped}`,
        `Bearer ${forged}`,
        `Bearer ${unsigned}`,
        `Bearer ${'x'.repeat(5000)}`,
        `Bearer ${accessToken}.extra`,
      ];
      for (const mode of MODES) {
        for (const authorization of authorizations) {
          const reply = await callApp(app, 'GET', `/${mode}/me`, authorization === undefined ? {} : { authorization });
          expectRefusal(reply, 401, 'unauthenticated');
          expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer/);
        }
        // The untouched token still passes: the refusals were about the tokens, not the app.
        expect((await callApp(app, 'GET', `/${mode}/me`, { bearer: accessToken })).status).toBe(200);
      }
    });

    it('a revoked session: refused at once online; offline until the access token expires (the documented window)', async () => {
      const tokens = await sdkSignIn(h, client, alice);
      const sid = (await callApp(app, 'GET', '/online/me', { bearer: tokens.accessToken })).body.sid as string;
      // Ended from another sign-in of the same user, as "sign out that device" does.
      const other = await sdkSignIn(h, client, alice);
      await client.revokeSession(other.accessToken, sid);

      const online = await callApp(app, 'GET', '/online/me', { bearer: tokens.accessToken });
      expectRefusal(online, 401, 'unauthenticated');
      expect(online.body.error.reason).toBe('revoked');

      // Offline there is no one to ask: the signature is good and exp not reached.
      expect((await callApp(app, 'GET', '/offline/me', { bearer: tokens.accessToken })).status).toBe(200);
      h.clock.advance(tokens.expiresIn * 1000 + 1_000);
      const expired = await callApp(app, 'GET', '/offline/me', { bearer: tokens.accessToken });
      expectRefusal(expired, 401, 'unauthenticated');
      expect(expired.body.error.reason).toBe('expired');
    });

    it('after a signing key rotation, tokens of the new and the old key both verify offline', async () => {
      const before = await sdkSignIn(h, client, alice);
      expect((await callApp(app, 'GET', '/offline/me', { bearer: before.accessToken })).status).toBe(200); // JWKS now cached
      const rotated = await h.deps.keyRing.rotate(); // what `twofold keys rotate` does
      const after = await client.refresh(before.refreshToken);
      expect(decodeProtectedHeader(after.accessToken).kid).toBe(rotated.kid);
      expect(decodeProtectedHeader(before.accessToken).kid).not.toBe(rotated.kid);
      for (const mode of MODES) {
        for (const token of [after.accessToken, before.accessToken]) {
          const reply = await callApp(app, 'GET', `/${mode}/me`, { bearer: token });
          expect(reply.status, `${mode}: ${JSON.stringify(reply.body)}`).toBe(200);
        }
      }
    });

    it('requireStepUp refuses a stale auth_time with step_up_required and passes after a real step-up', async () => {
      const tokens = await sdkSignIn(h, client, alice);
      for (const mode of MODES) expect((await callApp(app, 'POST', `/${mode}/transfer`, { bearer: tokens.accessToken })).status).toBe(200);

      h.clock.advance(6 * MINUTE); // older than maxAge 300 s, younger than the 10-minute token
      for (const mode of MODES) {
        const refused = await callApp(app, 'POST', `/${mode}/transfer`, { bearer: tokens.accessToken });
        expectRefusal(refused, 401, 'step_up_required');
        expect(refused.body.error.step_up).toMatchObject({
          reason: 'stale',
          max_age_s: 300,
          endpoint: `${h.baseUrl}/api/v1/session/step-up`,
        });
        expect(refused.body.error.step_up.methods).toContain('totp');
        expect(refused.headers.get('www-authenticate')).toBe('Bearer error="insufficient_user_authentication", max_age=300');
        // Authentication alone still passes: only the sensitive route asks for more.
        expect((await callApp(app, 'GET', `/${mode}/me`, { bearer: tokens.accessToken })).status).toBe(200);
      }
      // Online, twofold names the factors this user has set up.
      const online = await callApp(app, 'POST', '/online/transfer', { bearer: tokens.accessToken });
      expect(online.body.error.step_up.methods).toEqual(['totp', 'recovery_code']);

      const stepped = await client.stepUp(tokens.accessToken, nextTotp(h, alice));
      for (const mode of MODES) {
        const reply = await callApp(app, 'POST', `/${mode}/transfer`, { bearer: stepped.accessToken });
        expect(reply.status, `${mode}: ${JSON.stringify(reply.body)}`).toBe(200);
      }
      // The step-up replaced the session: online the old token is refused, offline it is still stale.
      expectRefusal(await callApp(app, 'POST', '/online/transfer', { bearer: tokens.accessToken }), 401, 'unauthenticated');
      expectRefusal(await callApp(app, 'POST', '/offline/transfer', { bearer: tokens.accessToken }), 401, 'step_up_required');
      // The refresh token moved to the new session.
      const refreshed = await client.refresh(tokens.refreshToken);
      expect((await callApp(app, 'POST', '/online/transfer', { bearer: refreshed.accessToken })).status).toBe(200);
    });

    it('requireStepUp({ phishingResistant }) refuses a TOTP sign-in in both modes', async () => {
      const tokens = await sdkSignIn(h, client, alice);
      for (const mode of MODES) {
        const refused = await callApp(app, 'GET', `/${mode}/keys`, { bearer: tokens.accessToken });
        expectRefusal(refused, 401, 'step_up_required');
        expect(refused.body.error.step_up.reason).toBe('phishing_resistant');
      }
    });

    it('online, a browser session cookie is checked by twofold with the browser’s context, and revocation applies at once', async () => {
      const chrome = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
      const browser = new ApiClient(h, { userAgent: chrome });
      expect((await signInWithTotp(h, browser, alice)).status).toBe(200);
      // The app's own cookies stay with the app; twofold's are forwarded.
      const cookie = ['app_pref=dark', ...[...browser.jar].map(([name, value]) => `${name}=${value}`)].join('; ');
      for (let i = 0; i < 2; i++) {
        // The middleware forwards the browser's User-Agent: from the app's own, twofold would see another
        // browser family and end the session as hijacked (docs/continuous-evaluation.md).
        const reply = await callApp(app, 'GET', '/online/me', { cookie, userAgent: chrome });
        expect(reply.status, JSON.stringify(reply.body)).toBe(200);
        expect(reply.body.session.user.username).toBe(alice.username);
      }
      // Offline has no way to check a cookie: only access tokens.
      expectRefusal(await callApp(app, 'GET', '/offline/me', { cookie, userAgent: chrome }), 401, 'unauthenticated');

      expect((await browser.logout()).status).toBe(204);
      expectRefusal(await callApp(app, 'GET', '/online/me', { cookie, userAgent: chrome }), 401, 'unauthenticated');
    });
  });
}
