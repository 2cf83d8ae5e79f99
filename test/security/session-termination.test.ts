import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeEverySession } from '../../src/admin/admin-sessions.js';
import { addUser } from '../../src/auth/users.js';
import { ApiClient, enrollTotp, expectJsonError, OTHER_STRONG_PASSWORD, signInWithTotp, STRONG_PASSWORD, totpAt } from '../http/client.js';
import type { EnrolledUser } from '../http/client.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * ASVS 5.0 V7.5.2: users see their sessions and, having authenticated again with at least one
 * factor, end any or all of them; V7.4.5: an administrator can end every session of every user.
 * A stolen session must not be able to sign its owner out of their other devices.
 */

const MINUTE = 60_000;

describe('ending other sessions needs a recently proven factor (ASVS V7.5.2)', () => {
  let h: Harness;
  let alice: EnrolledUser;
  let laptop: ApiClient;
  let phone: ApiClient;
  let tablet: ApiClient;

  const idOf = async (client: ApiClient): Promise<string> => {
    const res = await client.get<{ sessions: Array<{ id: string; current: boolean }> }>('/api/v1/sessions');
    expect(res.status).toBe(200);
    return res.body.sessions.find((s) => s.current)!.id;
  };
  const postForm = (client: ApiClient, url: string) =>
    client.post(url, new URLSearchParams({ _csrf: client.csrfToken ?? '' }).toString(), {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      csrf: 'origin',
    });

  beforeAll(async () => {
    h = await startHarness();
    await addUser(h.deps, { username: 'alice', password: STRONG_PASSWORD, isAdmin: false }, null);
    laptop = new ApiClient(h, { userAgent: 'vitest laptop' });
    phone = new ApiClient(h, { userAgent: 'vitest phone' });
    tablet = new ApiClient(h, { userAgent: 'vitest tablet' });
    alice = await enrollTotp(h, laptop, 'alice', STRONG_PASSWORD);
    expect((await signInWithTotp(h, phone, alice)).status).toBe(200);
    expect((await signInWithTotp(h, tablet, alice)).status).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a session whose last factor is older than session.sensitive_max_age cannot end another session, nor all others', async () => {
    const phoneId = await idOf(phone);
    h.clock.advance(11 * MINUTE);
    expectJsonError(await laptop.delete(`/api/v1/sessions/${phoneId}`), 401, 'step_up_required');
    const all = await laptop.delete('/api/v1/sessions');
    expectJsonError(all, 401, 'step_up_required');
    expect(all.body.error.step_up).toMatchObject({ methods: expect.arrayContaining(['totp']), max_age_s: 600 });
    expect((await phone.session()).status).toBe(200);
    expect((await tablet.session()).status).toBe(200);
  });

  it('the account page sends a stale session to the step-up page instead of revoking', async () => {
    const phoneId = await idOf(phone);
    for (const url of [`/account/sessions/${phoneId}/revoke`, '/account/sessions/revoke-others']) {
      const res = await postForm(laptop, url);
      expect(res.status).toBe(303);
      expect(res.headers.location).toBe('/step-up?return_to=%2Faccount');
    }
    expect((await phone.session()).status).toBe(200);
    expect((await tablet.session()).status).toBe(200);
  });

  it('after a step-up with a factor the same requests end the other sessions at once', async () => {
    h.clock.advance(30_000);
    const stepUp = await laptop.post('/api/v1/session/step-up', { method: 'totp', code: totpAt(alice.secret, h.clock.now()) });
    expect(stepUp.status).toBe(200);
    const phoneId = await idOf(phone);
    expect((await laptop.delete(`/api/v1/sessions/${phoneId}`)).status).toBe(204);
    expectJsonError(await phone.session(), 401, 'unauthenticated');
    expect(await laptop.delete('/api/v1/sessions')).toMatchObject({ status: 200, body: { revoked: 1 } });
    expectJsonError(await tablet.session(), 401, 'unauthenticated');
    expect((await laptop.session()).status).toBe(200);
  });

  it('signing out of the current session never needs a step-up', async () => {
    h.clock.advance(11 * MINUTE);
    const laptopId = await idOf(laptop);
    expect((await laptop.delete(`/api/v1/sessions/${laptopId}`)).status).toBe(204);
    expectJsonError(await laptop.session(), 401, 'unauthenticated');
  });
});

describe('an administrator can end every session of every user (ASVS V7.4.5)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('revokeEverySession ends the live sessions of all users at once and records it in each audit trail', async () => {
    const clients: ApiClient[] = [];
    for (const [name, password] of [
      ['carol', STRONG_PASSWORD],
      ['dave', OTHER_STRONG_PASSWORD],
    ] as const) {
      await addUser(h.deps, { username: name, password, isAdmin: false }, null);
      const first = new ApiClient(h, { userAgent: `vitest ${name} 1` });
      const user = await enrollTotp(h, first, name, password);
      const second = new ApiClient(h, { userAgent: `vitest ${name} 2` });
      expect((await signInWithTotp(h, second, user)).status).toBe(200);
      clients.push(first, second);
    }
    for (const client of clients) expect((await client.session()).status).toBe(200);

    expect(await revokeEverySession(h.deps, null)).toBe(4);
    for (const client of clients) expectJsonError(await client.session(), 401, 'unauthenticated');
    const events = await h.deps.store.events.list({ limit: 50 });
    const revocations = events.filter((e) => e.type === 'session.revoked' && e.reason === 'revoked_by_admin');
    expect(revocations).toHaveLength(2);
    expect(new Set(revocations.map((e) => e.userId)).size).toBe(2);
  });
});

describe('a new sign-in ends the session the browser still held (ASVS V7.2.4)', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('signing in again over the API or the pages revokes the old token instead of leaving it valid', async () => {
    await addUser(h.deps, { username: 'judy', password: STRONG_PASSWORD, isAdmin: false }, null);
    const browser = new ApiClient(h, { userAgent: 'vitest judy' });
    const judy = await enrollTotp(h, browser, 'judy', STRONG_PASSWORD);
    const first = browser.sessionToken!;
    expect((await signInWithTotp(h, browser, judy)).status).toBe(200);
    const second = browser.sessionToken!;
    expect(second).not.toBe(first);
    expectJsonError(await browser.get('/api/v1/session', { bearer: first }), 401, 'unauthenticated');
    expect((await browser.get('/api/v1/session', { bearer: second })).status).toBe(200);

    // The same through the sign-in pages (form posts, as a browser sends them).
    h.clock.advance(30_000);
    const form = (url: string, fields: Record<string, string>) =>
      browser.post(url, new URLSearchParams({ _csrf: browser.csrfToken ?? '', ...fields }).toString(), {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        csrf: 'origin',
      });
    expect((await form('/login', { username: 'judy', password: STRONG_PASSWORD })).status).toBe(303);
    expect((await form('/login/second-factor', { method: 'totp', code: totpAt(judy.secret, h.clock.now()) })).status).toBe(303);
    const third = browser.sessionToken!;
    expect(third).not.toBe(second);
    expectJsonError(await browser.get('/api/v1/session', { bearer: second }), 401, 'unauthenticated');
    expect((await browser.get('/api/v1/session', { bearer: third })).status).toBe(200);
    const events = await h.deps.store.events.list({ limit: 50 });
    expect(events.filter((e) => e.type === 'session.revoked' && e.reason === 'replaced_by_sign_in')).toHaveLength(2);
  });
});
