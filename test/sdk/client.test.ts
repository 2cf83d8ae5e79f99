import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidGrantError,
  RefreshTokenReusedError,
  SignInError,
  StepUpRequiredError,
  TwofoldAuthenticator,
  TwofoldClient,
  TokenKeeper,
  TwofoldUnavailableError,
  UnauthenticatedError,
  type TokenSet,
  type TwofoldError,
} from '../../packages/sdk/src/index.js';
import { freePort, startHarness, type Harness } from '../support/harness.js';
import { totpAt, type EnrolledUser } from '../http/client.js';
import { enrolledUser } from '../tokens/support.js';
import { nextTotp, sdkClient, sdkSignIn } from './support.js';

const MINUTE = 60_000;

/** The promise's rejection, to assert its class and fields. */
async function rejectionOf(promise: Promise<unknown>): Promise<TwofoldError> {
  try {
    await promise;
  } catch (err) {
    return err as TwofoldError;
  }
  throw new Error('expected a rejection');
}

describe('TwofoldClient against a running twofold', () => {
  let h: Harness;
  let alice: EnrolledUser;
  let client: TwofoldClient;

  beforeAll(async () => {
    h = await startHarness({ listen: true });
    alice = await enrolledUser(h);
    client = sdkClient(h);
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  });

  it('signs in for tokens in two steps and validates the access token online', async () => {
    h.clock.advance(30_000);
    const login = await client.login({ username: alice.username, password: alice.password });
    expect(login).toMatchObject({ state: 'second_factor_required', methods: expect.arrayContaining(['totp', 'recovery_code']) });
    if (login.state !== 'second_factor_required') throw new Error('unreachable');
    const tokens = await client.secondFactor(login.pendingToken, { method: 'totp', code: totpAt(alice.secret, h.clock.now()) });
    expect(tokens).toMatchObject({ tokenType: 'Bearer', expiresIn: 600 });
    expect(tokens.expiresAt.getTime()).toBe(h.clock.now() + 600_000);
    const session = await client.validate(tokens.accessToken);
    expect(session).toMatchObject({ kind: 'full', aal: 2, user: { username: alice.username } });
  });

  it('wrong password and wrong code are typed sign-in errors with the API’s codes', async () => {
    const badPassword = await rejectionOf(client.login({ username: alice.username, password: 'not the password at all' }));
    expect(badPassword).toBeInstanceOf(SignInError);
    expect(badPassword).toMatchObject({ code: 'invalid_credentials', status: 401 });

    h.clock.advance(30_000);
    const login = await client.login({ username: alice.username, password: alice.password });
    if (login.state !== 'second_factor_required') throw new Error(`unexpected ${login.state}`);
    const badCode = await rejectionOf(client.secondFactor(login.pendingToken, { method: 'totp', code: '000000' }));
    expect(badCode).toBeInstanceOf(SignInError);
    expect(badCode.code).toBe('invalid_code');
  });

  it('refresh rotates; a reused refresh token is RefreshTokenReusedError and ends the sign-in', async () => {
    const first = await sdkSignIn(h, client, alice);
    const second = await client.refresh(first.refreshToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.accessToken).not.toBe(first.accessToken);
    await expect(client.validate(second.accessToken)).resolves.toMatchObject({ aal: 2 });

    const reused = await rejectionOf(client.refresh(first.refreshToken));
    expect(reused).toBeInstanceOf(RefreshTokenReusedError);
    expect(reused).toBeInstanceOf(InvalidGrantError);
    expect(reused).toMatchObject({ code: 'invalid_grant', status: 400, reason: 'reused' });

    // The theft response ended the family and the session: the newest pair is dead too.
    const newest = await rejectionOf(client.refresh(second.refreshToken));
    expect(newest).toBeInstanceOf(InvalidGrantError);
    expect(newest).not.toBeInstanceOf(RefreshTokenReusedError);
    expect(newest.reason).toBe('revoked');
    const gone = await rejectionOf(client.validate(second.accessToken));
    expect(gone).toBeInstanceOf(UnauthenticatedError);
    expect(gone.status).toBe(401);

    const unknown = await rejectionOf(client.refresh('A'.repeat(43)));
    expect(unknown).toBeInstanceOf(InvalidGrantError);
    expect(unknown.reason).toBe('unknown');
  });

  it('TokenKeeper: callers asking at once share one refresh, so twofold sees no reuse', async () => {
    const saved: TokenSet[] = [];
    const keeper = new TokenKeeper(client, await sdkSignIn(h, client, alice), {
      now: () => h.clock.now(),
      onTokens: (t) => void saved.push(t),
    });
    const first = await keeper.accessToken();
    expect(saved).toHaveLength(0); // still fresh: no refresh
    h.clock.advance(10 * MINUTE);
    const answers = await Promise.all(Array.from({ length: 5 }, () => keeper.accessToken()));
    expect(new Set(answers).size).toBe(1);
    expect(answers[0]).not.toBe(first);
    expect(saved).toHaveLength(1);
    // Had two refreshes raced, twofold would have ended the family: the kept tokens still work.
    await expect(client.validate(answers[0]!)).resolves.toMatchObject({ aal: 2 });
    await expect(keeper.refresh()).resolves.toMatchObject({ tokenType: 'Bearer' });
    expect(saved).toHaveLength(2);
  });

  it('a stale session is StepUpRequiredError with the challenge; after stepUp() the requirement is met', async () => {
    const tokens = await sdkSignIn(h, client, alice);
    h.clock.advance(6 * MINUTE);
    const stale = await rejectionOf(client.validate(tokens.accessToken, { maxAge: 300 }));
    expect(stale).toBeInstanceOf(StepUpRequiredError);
    expect((stale as StepUpRequiredError).stepUp).toEqual({
      reason: 'stale',
      methods: ['totp', 'recovery_code'],
      max_age_s: 300,
      endpoint: '/api/v1/session/step-up',
    });
    const stepped = await client.stepUp(tokens.accessToken, nextTotp(h, alice));
    await expect(client.validate(stepped.accessToken, { maxAge: 300 })).resolves.toMatchObject({ aal: 2 });
  });

  it('lists and revokes sessions, and logout ends the sign-in and its refresh family', async () => {
    const phone = await sdkSignIn(h, client, alice);
    const laptop = await sdkSignIn(h, client, alice);
    const sessions = await client.sessions(laptop.accessToken);
    const current = sessions.find((s) => s.current)!;
    const phoneSession = (await client.validate(phone.accessToken)).id;
    expect(sessions.map((s) => s.id)).toContain(phoneSession);
    expect(current.user_agent).toBe('ExampleApp/1.0 (vitest)');

    await client.revokeSession(laptop.accessToken, phoneSession);
    expect(await rejectionOf(client.validate(phone.accessToken))).toBeInstanceOf(UnauthenticatedError);
    expect((await client.sessions(laptop.accessToken)).map((s) => s.id)).not.toContain(phoneSession);

    const tablet = await sdkSignIn(h, client, alice);
    expect(await client.revokeOtherSessions(laptop.accessToken)).toBeGreaterThanOrEqual(1);
    expect(await rejectionOf(client.validate(tablet.accessToken))).toBeInstanceOf(UnauthenticatedError);

    await client.logout(laptop.accessToken);
    expect(await rejectionOf(client.validate(laptop.accessToken))).toBeInstanceOf(UnauthenticatedError);
    const afterLogout = await rejectionOf(client.refresh(laptop.refreshToken));
    expect(afterLogout).toBeInstanceOf(InvalidGrantError);
  });

  it('twofold unreachable: TwofoldUnavailableError from the client, 503 from the middleware in both modes', async () => {
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const lost = new TwofoldClient({ baseUrl: nowhere, timeoutMs: 2_000 });
    const err = await rejectionOf(lost.refresh('A'.repeat(43)));
    expect(err).toBeInstanceOf(TwofoldUnavailableError);
    expect(err).toMatchObject({ code: 'twofold_unavailable', status: 0 });

    const tokens = await sdkSignIn(h, client, alice);
    for (const mode of ['offline', 'online'] as const) {
      const authenticator = new TwofoldAuthenticator({
        baseUrl: nowhere,
        mode,
        issuer: h.origin,
        timeoutMs: 2_000,
        now: () => h.clock.now(),
      });
      const result = await authenticator.authenticate({ authorization: `Bearer ${tokens.accessToken}` });
      expect(result).toMatchObject({ kind: 'refused', refusal: { status: 503, body: { error: { code: 'twofold_unavailable' } } } });
    }
  });
});
