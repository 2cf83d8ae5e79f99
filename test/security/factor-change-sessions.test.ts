import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { ApiClient, enrollTotp, signInWithTotp, STRONG_PASSWORD, type EnrolledUser } from '../http/client.js';
import { startHarness, type Harness } from '../support/harness.js';

/**
 * ASVS 5.0 V7.4.3: after a factor is changed or removed, the user may end all other sessions. The
 * password change and a new authenticator have a "sign out my other sessions" box; so does the
 * regeneration of recovery codes, and a passkey added or removed is confirmed with the offer.
 */
describe('ending the other sessions after a factor change (ASVS V7.4.3)', () => {
  let h: Harness;
  let alice: EnrolledUser;
  let laptop: ApiClient;

  const postForm = (client: ApiClient, url: string, fields: Record<string, string> = {}) =>
    client.post(url, new URLSearchParams({ _csrf: client.csrfToken ?? '', ...fields }).toString(), {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      csrf: 'origin',
    });

  /** Another device of alice's, signed in with her password and a code. */
  async function otherDevice(name: string): Promise<ApiClient> {
    const client = new ApiClient(h, { userAgent: `vitest ${name}` });
    expect((await signInWithTotp(h, client, alice)).status).toBe(200);
    return client;
  }

  beforeAll(async () => {
    h = await startHarness();
    await addUser(h.deps, { username: 'alice', password: STRONG_PASSWORD, isAdmin: false }, null);
    laptop = new ApiClient(h, { userAgent: 'vitest laptop' });
    alice = await enrollTotp(h, laptop, 'alice', STRONG_PASSWORD);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('regenerating recovery codes ends the other sessions when asked, and only then', async () => {
    const phone = await otherDevice('phone');
    expect((await signInWithTotp(h, laptop, alice)).status).toBe(200);
    const page = await laptop.get('/account');
    expect(page.body).toContain('Also sign out my other sessions');

    const kept = await postForm(laptop, '/account/recovery-codes');
    expect(kept.status).toBe(200);
    expect(kept.body).toContain('Your new recovery codes');
    expect((await phone.session()).status).toBe(200);

    const ended = await postForm(laptop, '/account/recovery-codes', { end_other_sessions: 'on' });
    expect(ended.status).toBe(200);
    expect(ended.body).toContain('1 other session was signed out.');
    expect((await phone.session()).status).toBe(401);
    expect((await laptop.session()).status).toBe(200);
  });

  it('after a passkey is added or removed, the confirmation offers to sign out the other sessions', async () => {
    const tablet = await otherDevice('tablet');
    for (const done of ['passkey_added', 'passkey_removed']) {
      const page = await laptop.get(`/account?done=${done}`);
      expect(page.body, done).toContain('A sign-in factor changed');
      expect(page.body, done).toContain('action="/account/sessions/revoke-others"');
    }
    // Not after other confirmations.
    expect((await laptop.get('/account?done=session_revoked')).body).not.toContain('A sign-in factor changed');
    const ended = await postForm(laptop, '/account/sessions/revoke-others');
    expect(ended.status).toBe(303);
    expect((await tablet.session()).status).toBe(401);
    // With no other session left, nothing is offered.
    expect((await laptop.get('/account?done=passkey_removed')).body).not.toContain('A sign-in factor changed');
  });
});
