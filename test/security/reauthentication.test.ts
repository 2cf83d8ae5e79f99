import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueSession } from '../../src/auth/sessions.js';
import { addUser } from '../../src/auth/users.js';
import type { User } from '../../src/store/store.js';
import {
  ApiClient,
  enrollTotp,
  expectJsonError,
  OTHER_STRONG_PASSWORD,
  STRONG_PASSWORD,
  totpAt,
  type EnrolledUser,
} from '../http/client.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * ASVS 5.0 V7.5.1: changing what authenticates the account (password, authenticator, recovery
 * codes, passkeys) needs a fresh proof at the account's full strength. A one-factor session of an
 * account that has a second factor (a remembered device that skipped it) must step up first, and
 * so must a two-factor session whose last factor is older than session.sensitive_max_age.
 */

const MINUTE = 60_000;
const UA = 'vitest one-factor browser';

describe('changing credentials needs a recent factor at two-factor strength (ASVS V7.5.1)', () => {
  let h: Harness;
  let kim: EnrolledUser;
  let kimUser: User;
  let browser: ApiClient;

  beforeAll(async () => {
    h = await startHarness();
    kimUser = await addUser(h.deps, { username: 'kim', password: STRONG_PASSWORD, isAdmin: false }, null);
    browser = new ApiClient(h, { userAgent: UA });
    kim = await enrollTotp(h, browser, 'kim', STRONG_PASSWORD);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a one-factor session of an account with a second factor must step up before changing the password, recovery codes or passkeys', async () => {
    // What a low-risk sign-in from a remembered device yields: a full session from the password alone (AAL1).
    const issued = await issueSession(h.deps, kimUser, 'full', [{ method: 'pwd', at: h.clock.now() }], { ip: '127.0.0.1', userAgent: UA });
    const oneFactor = new ApiClient(h, { userAgent: UA });
    oneFactor.jar.set(oneFactor.names.session, issued.token);
    const origin = { csrf: 'origin' as const };
    expect((await oneFactor.session()).body).toMatchObject({ aal: 1 });

    // Password and passkeys: step up to two factors first.
    for (const res of [
      await oneFactor.post('/api/v1/account/password', { current_password: STRONG_PASSWORD, new_password: OTHER_STRONG_PASSWORD }, origin),
      await oneFactor.post('/api/v1/factors/webauthn/registration/options', undefined, origin),
    ]) {
      expectJsonError(res, 401, 'step_up_required');
      expect(res.body.error.step_up).toMatchObject({ reason: 'aal', methods: expect.arrayContaining(['totp']) });
    }
    // Authenticator and recovery codes: refused outright to a one-factor session.
    expectJsonError(await oneFactor.post('/api/v1/factors/recovery-codes', undefined, origin), 403, 'forbidden');
    expectJsonError(await oneFactor.post('/api/v1/factors/totp', undefined, origin), 403, 'forbidden');
    // Nothing changed: the password is still the old one.
    expect(await h.deps.hasher.verify((await h.deps.store.users.findById(kimUser.id))!.passwordHash, STRONG_PASSWORD)).toBe(true);

    h.clock.advance(30_000);
    const stepUp = await oneFactor.post('/api/v1/session/step-up', { method: 'totp', code: totpAt(kim.secret, h.clock.now()) }, origin);
    expect(stepUp.status).toBe(200);
    expect((await oneFactor.session()).body).toMatchObject({ aal: 2 });
    const codes = await oneFactor.post('/api/v1/factors/recovery-codes');
    expect(codes.status).toBe(200);
    expect(codes.body.recovery_codes).toHaveLength(10);
  });

  it('a two-factor session whose factor is older than session.sensitive_max_age must step up before adding a passkey', async () => {
    h.clock.advance(11 * MINUTE);
    const res = await browser.post('/api/v1/factors/webauthn/registration/options');
    expectJsonError(res, 401, 'step_up_required');
    expect(res.body.error.step_up).toMatchObject({ reason: 'stale', max_age_s: 600 });
  });
});
