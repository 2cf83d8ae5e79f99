import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { ApiClient, enrollTotp, STRONG_PASSWORD } from '../http/client.js';
import { startHarness, type Harness } from '../support/harness.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';

/** The passkey API end to end over HTTP (app.inject), with real signatures from a software authenticator. */

const ORIGIN = 'http://localhost:8080';
const RP_ID = 'localhost';

describe('passkey API', () => {
  let h: Harness;
  let alice: ApiClient;
  let key: SoftAuthenticator;

  beforeEach(async () => {
    h = await startHarness({ overrides: { public_url: ORIGIN } });
    await addUser(h.deps, { username: 'alice', password: STRONG_PASSWORD, isAdmin: false }, null);
    alice = new ApiClient(h);
    await enrollTotp(h, alice, 'alice', STRONG_PASSWORD);
    key = new SoftAuthenticator();
  });
  afterEach(async () => h.close());

  async function registerPasskey(client: ApiClient, name = 'YubiKey'): Promise<void> {
    const options = await client.post('/api/v1/factors/webauthn/registration/options', undefined, { csrf: 'origin' });
    expect(options.status).toBe(200);
    const verified = await client.post(
      '/api/v1/factors/webauthn/registration/verify',
      { name, response: key.register(options.body, { origin: ORIGIN }) },
      { csrf: 'origin' },
    );
    expect(verified.status, JSON.stringify(verified.body)).toBe(201);
  }

  async function passwordThenPasskey(client: ApiClient, counter?: number) {
    const login = await client.login('alice', STRONG_PASSWORD);
    expect(login.body).toMatchObject({ state: 'second_factor_required', methods: ['webauthn', 'totp', 'recovery_code'] });
    const options = await client.post('/api/v1/login/second-factor/webauthn/options', undefined, { csrf: 'origin' });
    expect(options.status).toBe(200);
    expect(options.body.allowCredentials).toEqual([{ id: key.id, type: 'public-key', transports: ['usb'] }]);
    const response = key.assert(options.body.challenge, { origin: ORIGIN, rpId: RP_ID, counter });
    return client.post('/api/v1/login/second-factor', { method: 'webauthn', response }, { csrf: 'origin' });
  }

  it('registers, lists and renames a passkey, then signs in with password + passkey at AAL2', async () => {
    await registerPasskey(alice);
    const list = await alice.get('/api/v1/factors/webauthn');
    expect(list.body.credentials).toEqual([
      expect.objectContaining({ id: key.id, name: 'YubiKey', counter: 0, transports: ['usb'], backup_eligible: false, last_used_at: null }),
    ]);
    expect((await alice.request('PATCH', `/api/v1/factors/webauthn/${key.id}`, { body: { name: 'Blue key' } })).status).toBe(204);
    expect((await alice.get('/api/v1/factors/webauthn')).body.credentials[0].name).toBe('Blue key');

    await alice.logout();
    const signedIn = await passwordThenPasskey(alice);
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
    expect(signedIn.body.state).toBe('authenticated');
    const session = await alice.session();
    expect(session.body).toMatchObject({ aal: 2, amr: ['pwd', 'hwk'] });
    expect((await alice.get('/api/v1/factors/webauthn')).body.credentials[0]).toMatchObject({
      counter: 1,
      last_used_at: expect.any(String),
    });
  });

  it('refuses a cloned key (counter not increasing) with a clear 403 and records webauthn.clone_suspected', async () => {
    await registerPasskey(alice);
    await alice.logout();
    expect((await passwordThenPasskey(alice, 5)).status).toBe(200);
    await alice.logout();
    const cloned = await passwordThenPasskey(alice, 5);
    expect(cloned.status).toBe(403);
    expect(cloned.body.error).toMatchObject({ code: 'passkey_clone_suspected', message: expect.stringContaining('copied') });
    const events = await h.deps.store.events.list({ limit: 5 });
    expect(events.map((e) => e.type)).toContain('webauthn.clone_suspected');
    expect((await h.deps.store.webauthn.findCredential(key.id))?.counter).toBe(5);
  });

  it('steps up with a passkey, and removing a passkey needs a fresh factor', async () => {
    await registerPasskey(alice);
    h.clock.advance(11 * 60_000);
    const stale = await alice.delete(`/api/v1/factors/webauthn/${key.id}`);
    expect(stale.status).toBe(401);
    expect(stale.body.error).toMatchObject({
      code: 'step_up_required',
      step_up: { reason: 'stale', methods: ['totp', 'webauthn', 'recovery_code'] },
    });
    expect(await h.deps.store.webauthn.countCredentials((await h.deps.store.users.findByUsername('alice'))!.id)).toBe(1);

    const options = await alice.post('/api/v1/session/step-up/webauthn/options', undefined, { csrf: 'origin' });
    expect(options.status).toBe(200);
    const response = key.assert(options.body.challenge, { origin: ORIGIN, rpId: RP_ID });
    const stepped = await alice.post('/api/v1/session/step-up', { method: 'webauthn', response }, { csrf: 'origin' });
    expect(stepped.status, JSON.stringify(stepped.body)).toBe(200);
    expect((await alice.session()).body.factors).toContainEqual({ method: 'hwk', at: new Date(h.clock.now()).toISOString() });

    // The same assertion again is a replay.
    const replay = await alice.post('/api/v1/session/step-up', { method: 'webauthn', response }, { csrf: 'origin' });
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('passkey_challenge_invalid');

    expect((await alice.delete(`/api/v1/factors/webauthn/${key.id}`)).status).toBe(204);
    expect((await alice.get('/api/v1/factors/webauthn')).body.credentials).toEqual([]);
  });

  it('lets an administrator list and remove a user’s passkeys, and nobody else', async () => {
    await registerPasskey(alice);
    const aliceId = (await h.deps.store.users.findByUsername('alice'))!.id;
    const forbidden = await alice.get(`/api/v1/admin/users/${aliceId}/webauthn`);
    expect(forbidden.status).toBe(403);

    await addUser(h.deps, { username: 'root', password: STRONG_PASSWORD, isAdmin: true }, null);
    const admin = new ApiClient(h);
    await enrollTotp(h, admin, 'root', STRONG_PASSWORD);
    const listed = await admin.get(`/api/v1/admin/users/${aliceId}/webauthn`);
    expect(listed.status).toBe(200);
    expect(listed.body.credentials.map((c: { id: string }) => c.id)).toEqual([key.id]);
    expect((await admin.delete(`/api/v1/admin/users/${aliceId}/webauthn/${key.id}`)).status).toBe(204);
    expect(await h.deps.store.webauthn.listCredentials(aliceId)).toEqual([]);
    const [event] = await h.deps.store.events.list({ userId: aliceId, limit: 1 });
    expect(event).toMatchObject({ type: 'factor.webauthn.removed', reason: 'removed_by_admin' });
    expect((await admin.get(`/api/v1/admin/users/usr_nobody/webauthn`)).status).toBe(404);
  });

  it('answers bad WebAuthn input with a clear 4xx, never a 500', async () => {
    const junk = await alice.post('/api/v1/factors/webauthn/registration/verify', { name: 'x', response: { id: 'x' } }, { csrf: 'origin' });
    expect(junk.status).toBe(400);
    const garbage = {
      id: 'AAAA',
      rawId: 'AAAA',
      type: 'public-key',
      response: { clientDataJSON: 'bm90IGpzb24', attestationObject: 'AAAA' },
    };
    const notJson = await alice.post('/api/v1/factors/webauthn/registration/verify', { name: 'x', response: garbage }, { csrf: 'origin' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error.code).toBe('bad_request');
    const noName = await alice.post('/api/v1/factors/webauthn/registration/verify', { name: '   ', response: garbage }, { csrf: 'origin' });
    expect(noName.status).toBe(400);
    const noPasskey = await alice.post('/api/v1/session/step-up/webauthn/options', undefined, { csrf: 'origin' });
    expect(noPasskey.status).toBe(400);
    expect(noPasskey.body.error.code).toBe('method_not_available');
  });
});

describe('passkeys with an IP-address public_url', () => {
  it('explains that an IP address cannot be an RP ID', async () => {
    const h = await startHarness();
    try {
      await addUser(h.deps, { username: 'alice', password: STRONG_PASSWORD, isAdmin: false }, null);
      const client = new ApiClient(h);
      await enrollTotp(h, client, 'alice', STRONG_PASSWORD);
      const res = await client.post('/api/v1/factors/webauthn/registration/options');
      expect(res.status).toBe(409);
      expect(res.body.error).toMatchObject({ code: 'passkey_unavailable', message: expect.stringContaining('IP address') });
    } finally {
      await h.close();
    }
  });
});
