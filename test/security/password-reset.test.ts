import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issuePasswordResetLink, RESET_LINK_LIFETIME_MS } from '../../src/auth/password-reset.js';
import { addUser } from '../../src/auth/users.js';
import type { User } from '../../src/store/store.js';
import { ApiClient, enrollTotp, expectJsonError, OTHER_STRONG_PASSWORD, signInWithTotp, STRONG_PASSWORD, totpAt } from '../http/client.js';
import type { EnrolledUser } from '../http/client.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * A forgotten password (ASVS 5.0 V6.4.3): an operator's one-time link, whose page accepts a new
 * password only with a second factor of the account (no MFA bypass), ends every session, and works
 * once and for an hour.
 */

const NEW_PASSWORD = 'granite kettles hum in april';

describe('resetting a forgotten password with a one-time link and a second factor (ASVS V6.4.3)', () => {
  let h: Harness;
  let lena: EnrolledUser;
  let lenaUser: User;
  let laptop: ApiClient;
  let visitor: ApiClient;

  const path = (url: string) => {
    const u = new URL(url);
    return `${u.pathname}${u.search}`;
  };
  const tokenOf = (url: string) => new URL(url).searchParams.get('token')!;
  const submit = (token: string, fields: Record<string, string>) =>
    visitor.post(
      '/reset-password',
      new URLSearchParams({ token, new_password: NEW_PASSWORD, confirm_password: NEW_PASSWORD, method: 'totp', ...fields }).toString(),
      { headers: { 'content-type': 'application/x-www-form-urlencoded' }, csrf: 'origin' },
    );
  const passwordIs = async (password: string) =>
    h.deps.hasher.verify((await h.deps.store.users.findById(lenaUser.id))!.passwordHash, password);

  beforeAll(async () => {
    h = await startHarness();
    lenaUser = await addUser(h.deps, { username: 'lena', password: STRONG_PASSWORD, isAdmin: false }, null);
    laptop = new ApiClient(h, { userAgent: 'vitest laptop' });
    visitor = new ApiClient(h, { userAgent: 'vitest visitor' });
    lena = await enrollTotp(h, laptop, 'lena', STRONG_PASSWORD);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('the link opens a form for the new password and a code from the second factor', async () => {
    const link = await issuePasswordResetLink(h.deps, lenaUser, null);
    expect(link.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/reset-password\?token=[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(link.expiresAt).toBe(h.clock.now() + RESET_LINK_LIFETIME_MS);
    const page = await visitor.get(path(link.url));
    expect(page.status).toBe(200);
    expect(page.body).toContain('Choose a new password');
    expect(page.body).toContain('name="new_password"');
    expect(page.body).toContain('Code from your authenticator app');
    expect(page.body).toContain('Use a recovery code instead');
  });

  it('without the right code nothing changes: a wrong code is refused and counted, a missing one asked for', async () => {
    const token = tokenOf((await issuePasswordResetLink(h.deps, lenaUser, null)).url);
    const right = totpAt(lena.secret, h.clock.now());
    const wrong = await submit(token, { code: right === '000000' ? '111111' : '000000' });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toContain('That code is not valid.');
    expect((await h.deps.store.users.findById(lenaUser.id))!.factorFailures).toBe(1);
    const missing = await submit(token, { method: '' });
    expect(missing.status).toBe(400);
    expect(await passwordIs(STRONG_PASSWORD)).toBe(true);
    expect((await laptop.session()).status).toBe(200);
  });

  it('a refused new password does not spend the code that came with it', async () => {
    const token = tokenOf((await issuePasswordResetLink(h.deps, lenaUser, null)).url);
    h.clock.advance(30_000);
    const code = totpAt(lena.secret, h.clock.now());
    const common = await submit(token, { new_password: 'password123', confirm_password: 'password123', code });
    expect(common.status).toBe(400);
    expect(common.body).toContain('too common');
    const ok = await submit(token, { code });
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe('/login?notice=password_reset');
    expect(await passwordIs(NEW_PASSWORD)).toBe(true);
    // The failure count of the previous test is cleared by the right code.
    expect((await h.deps.store.users.findById(lenaUser.id))!.factorFailures).toBe(0);
  });

  it('the right code sets the new password and ends every session; the link then works no more', async () => {
    expectJsonError(await laptop.session(), 401, 'unauthenticated');
    const events = await h.deps.store.events.list({ userId: lenaUser.id, limit: 20 });
    expect(events.map((e) => `${e.type}:${e.outcome}`)).toContain('password.reset:success');
    expect(events).toContainEqual(expect.objectContaining({ type: 'session.revoked', reason: 'password_reset' }));
    // The old password no longer signs in, the new one (with the second factor) does.
    expectJsonError(await laptop.login('lena', STRONG_PASSWORD), 401, 'invalid_credentials');
    expect((await signInWithTotp(h, laptop, { ...lena, password: NEW_PASSWORD })).status).toBe(200);
    lenaUser = (await h.deps.store.users.findById(lenaUser.id))!;
  });

  it('a used, expired, tampered or foreign link is refused with 410 and changes nothing', async () => {
    const used = tokenOf((await issuePasswordResetLink(h.deps, { ...lenaUser, passwordHash: 'an older hash' }, null)).url);
    const expired = tokenOf((await issuePasswordResetLink(h.deps, lenaUser, null)).url);
    const fresh = tokenOf((await issuePasswordResetLink(h.deps, lenaUser, null)).url);
    const [payload, mac] = fresh.split('.');
    const forged = Buffer.from(JSON.stringify({ u: 'usr_other', e: 9e15, f: 'x' })).toString('base64url');
    h.clock.advance(RESET_LINK_LIFETIME_MS);
    for (const token of [used, expired, `${forged}.${mac}`, `${payload}.${'A'.repeat(43)}`, 'junk', `${fresh}.extra`]) {
      const page = await visitor.get(`/reset-password?token=${encodeURIComponent(token)}`);
      expect(page.status, token).toBe(410);
      expect(page.body).toContain('This password reset link is not valid');
      const post = await submit(token, { code: totpAt(lena.secret, h.clock.now()) });
      expect(post.status, token).toBe(410);
    }
    expect(await passwordIs(NEW_PASSWORD)).toBe(true);
  });

  it('an account without a second factor needs only the link; a disabled account none at all', async () => {
    const nora = await addUser(h.deps, { username: 'nora', password: OTHER_STRONG_PASSWORD, isAdmin: false }, null);
    const token = tokenOf((await issuePasswordResetLink(h.deps, nora, null)).url);
    const page = await visitor.get(`/reset-password?token=${token}`);
    expect(page.body).not.toContain('Code from your authenticator app');
    expect((await submit(token, {})).status).toBe(303);
    // She still has to enroll a second factor at her next sign-in.
    expect((await visitor.login('nora', NEW_PASSWORD)).body.state).toBe('enrollment_required');

    const again = tokenOf((await issuePasswordResetLink(h.deps, (await h.deps.store.users.findById(nora.id))!, null)).url);
    await h.deps.store.users.setDisabled(nora.id, true, h.clock.now());
    expect((await visitor.get(`/reset-password?token=${again}`)).status).toBe(410);
  });
});
