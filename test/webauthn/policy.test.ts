import { afterEach, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { loadConfig } from '../../src/config.js';
import { hashToken } from '../../src/core/ids.js';
import { ApiClient, enrollTotp, STRONG_PASSWORD, totpAt, type EnrolledUser } from '../http/client.js';
import { startHarness, type Harness } from '../support/harness.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';

/**
 * Issue 6 policy gaps over HTTP with real signatures (software authenticator): webauthn.require_for,
 * the clone signal fed to the risk engine, and a passkey as the factor a user enrolls.
 */

const ORIGIN = 'http://localhost:8080';
const RP_ID = 'localhost';

let h: Harness;
afterEach(async () => h?.close());

async function registerPasskey(client: ApiClient, key: SoftAuthenticator, name = 'YubiKey') {
  const options = await client.post('/api/v1/factors/webauthn/registration/options', undefined, { csrf: 'origin' });
  expect(options.status, JSON.stringify(options.body)).toBe(200);
  return client.post(
    '/api/v1/factors/webauthn/registration/verify',
    { name, response: key.register(options.body, { origin: ORIGIN }) },
    { csrf: 'origin' },
  );
}

async function answerWithPasskey(client: ApiClient, key: SoftAuthenticator, counter?: number) {
  const options = await client.post('/api/v1/login/second-factor/webauthn/options', undefined, { csrf: 'origin' });
  expect(options.status, JSON.stringify(options.body)).toBe(200);
  const response = key.assert(options.body.challenge, { origin: ORIGIN, rpId: RP_ID, counter });
  return client.post('/api/v1/login/second-factor', { method: 'webauthn', response }, { csrf: 'origin' });
}

describe('webauthn.require_for', () => {
  it('is validated: subjects are user:NAME or group:NAME, and unknown webauthn keys are refused', () => {
    expect(() => loadConfig({ env: {}, cwd: '/tmp', overrides: { webauthn: { require_for: ['admins'] } } })).toThrow(/require_for/);
    expect(() => loadConfig({ env: {}, cwd: '/tmp', overrides: { webauthn: { requireFor: ['group:admins'] } } })).toThrow();
    const config = loadConfig({ env: {}, cwd: '/tmp', overrides: { webauthn: { require_for: ['group:admins', 'user:Bob'] } } });
    expect([...config.webauthn.requireFor.groups]).toEqual(['admins']);
    expect([...config.webauthn.requireFor.users]).toEqual(['bob']);
  });

  it('an administrator with a passkey must answer with it (or a recovery code); the admin API wants a fresh passkey', async () => {
    h = await startHarness({ overrides: { public_url: ORIGIN, webauthn: { require_for: ['group:admins'] } } });
    await addUser(h.deps, { username: 'root', password: STRONG_PASSWORD, isAdmin: true }, null);
    const root = new ApiClient(h);
    // Without a passkey yet: the app code is proven, and the session may only register a passkey.
    const enrolled = await enrollTotpThenPasskeyOnly(root);
    const key = new SoftAuthenticator();
    await root.logout();

    // Sign-in with TOTP, then the restricted session: only passkey registration.
    h.clock.advance(30_000);
    const login = await root.login('root', STRONG_PASSWORD);
    expect(login.body).toMatchObject({ state: 'second_factor_required', methods: ['totp', 'recovery_code'] });
    const viaTotp = await root.secondFactor('totp', totpAt(enrolled.secret, h.clock.now()));
    expect(viaTotp.status, JSON.stringify(viaTotp.body)).toBe(200);
    expect(viaTotp.body.state).toBe('enrollment_required');
    expect((await root.get('/api/v1/admin/users')).status).toBe(403);
    const totpAgain = await root.post('/api/v1/factors/totp');
    expect(totpAgain.status).toBe(403);
    expect(totpAgain.body.error.code).toBe('phishing_resistant_required');
    const registered = await registerPasskey(root, key);
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    expect(registered.body.recovery_codes).toHaveLength(10);
    expect((await root.session()).body).toMatchObject({ kind: 'full', aal: 2, amr: ['pwd', 'otp', 'hwk'] });
    expect((await root.get('/api/v1/admin/users')).status).toBe(200);
    const codes: string[] = registered.body.recovery_codes;

    // Now with a passkey: TOTP is refused with a clear code and costs no attempt.
    await root.logout();
    h.clock.advance(30_000);
    const again = await root.login('root', STRONG_PASSWORD);
    expect(again.body).toMatchObject({ state: 'second_factor_required', methods: ['webauthn', 'recovery_code'] });
    const refused = await root.secondFactor('totp', totpAt(enrolled.secret, h.clock.now()));
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: 'phishing_resistant_required', methods: ['webauthn', 'recovery_code'] });
    // The page offers the passkey and a recovery code, not the app's code form.
    const page = await root.get('/login/second-factor');
    expect(page.status).toBe(200);
    expect(page.body).toContain('data-passkey-assert');
    expect(page.body).not.toContain('Code from your authenticator app');
    expect(page.body).toContain('Use a recovery code instead');
    const viaPasskey = await answerWithPasskey(root, key);
    expect(viaPasskey.status, JSON.stringify(viaPasskey.body)).toBe(200);
    expect(viaPasskey.body.state).toBe('authenticated');
    expect((await root.get('/api/v1/admin/users')).status).toBe(200);

    // A recovery code is the account-recovery path: it signs in, but the admin API then wants a passkey step-up.
    await root.logout();
    await root.login('root', STRONG_PASSWORD);
    const viaCode = await root.secondFactor('recovery_code', codes[0]!);
    expect(viaCode.status, JSON.stringify(viaCode.body)).toBe(200);
    const admin = await root.get('/api/v1/admin/users');
    expect(admin.status).toBe(401);
    expect(admin.body.error).toMatchObject({ code: 'step_up_required', step_up: { reason: 'phishing_resistant', methods: ['webauthn'] } });

    // A fresh passkey is needed, not merely one some time in the session.
    const options = await root.post('/api/v1/session/step-up/webauthn/options', undefined, { csrf: 'origin' });
    const response = key.assert(options.body.challenge, { origin: ORIGIN, rpId: RP_ID });
    expect((await root.post('/api/v1/session/step-up', { method: 'webauthn', response }, { csrf: 'origin' })).status).toBe(200);
    expect((await root.get('/api/v1/admin/users')).status).toBe(200);
    h.clock.advance(11 * 60_000);
    h.clock.advance(30_000);
    // Stepping up is held to the sign-in's methods: the app code is refused, before it costs an attempt.
    const failuresBefore = (await h.deps.store.users.findByUsername('root'))!.factorFailures;
    const viaApp = await root.post('/api/v1/session/step-up', { method: 'totp', code: totpAt(enrolled.secret, h.clock.now()) });
    expect(viaApp.status).toBe(403);
    expect(viaApp.body.error).toMatchObject({ code: 'phishing_resistant_required', methods: ['webauthn', 'recovery_code'] });
    expect((await h.deps.store.users.findByUsername('root'))!.factorFailures).toBe(failuresBefore);
    expect((await root.session()).status).toBe(200);
    const stale = await root.get('/api/v1/admin/users');
    expect(stale.status).toBe(401);
    expect(stale.body.error.step_up).toMatchObject({ reason: 'stale', methods: ['webauthn'] });
  });

  it('a require_for user with no factor at all is sent to register a passkey, not an authenticator app', async () => {
    h = await startHarness({ overrides: { public_url: ORIGIN, webauthn: { require_for: ['user:carol'] } } });
    await addUser(h.deps, { username: 'carol', password: STRONG_PASSWORD, isAdmin: false }, null);
    const carol = new ApiClient(h);
    const login = await carol.login('carol', STRONG_PASSWORD);
    expect(login.body.state).toBe('enrollment_required');
    expect((await carol.post('/api/v1/factors/totp')).body.error.code).toBe('phishing_resistant_required');
    const page = await carol.get('/enroll');
    expect(page.status).toBe(200);
    expect(page.body).toContain('Register a passkey');
    expect(page.body).not.toContain('Scan this QR code');
    const registered = await registerPasskey(carol, new SoftAuthenticator());
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    expect((await carol.session()).body).toMatchObject({ kind: 'full', aal: 2, amr: ['pwd', 'hwk'] });
  });

  /** Enrolls TOTP while root is not yet bound by require_for (an admin made before the policy), then restarts the policy. */
  async function enrollTotpThenPasskeyOnly(client: ApiClient): Promise<EnrolledUser> {
    const requireFor = h.deps.config.webauthn.requireFor;
    (h.deps.config.webauthn as { requireFor: unknown }).requireFor = { users: new Set(), groups: new Set() };
    try {
      return await enrollTotp(h, client, 'root', STRONG_PASSWORD);
    } finally {
      (h.deps.config.webauthn as { requireFor: unknown }).requireFor = requireFor;
    }
  }
});

describe('a passkey as the factor a user enrolls', () => {
  it('turns the enrollment session into a full AAL2 session and issues recovery codes, as TOTP does', async () => {
    h = await startHarness({ overrides: { public_url: ORIGIN } });
    await addUser(h.deps, { username: 'dave', password: STRONG_PASSWORD, isAdmin: false }, null);
    const dave = new ApiClient(h);
    expect((await dave.login('dave', STRONG_PASSWORD)).body.state).toBe('enrollment_required');
    const enrollmentToken = dave.sessionToken;
    expect((await dave.get('/api/v1/factors/webauthn')).body.error.code).toBe('enrollment_only');
    const key = new SoftAuthenticator();
    const registered = await registerPasskey(dave, key, 'Laptop');
    expect(registered.status, JSON.stringify(registered.body)).toBe(201);
    expect(registered.body).toMatchObject({ name: 'Laptop', recovery_codes: expect.any(Array) });
    expect(registered.body.recovery_codes).toHaveLength(10);
    expect(dave.sessionToken).not.toBe(enrollmentToken);
    expect((await dave.session()).body).toMatchObject({ kind: 'full', aal: 2, amr: ['pwd', 'hwk'] });
    // The full session keeps the sign-in's origin (where from, risk verdict), as after TOTP enrollment.
    const enrollmentSession = await h.deps.store.sessions.findByTokenHash(hashToken(enrollmentToken!));
    const fullSession = await h.deps.store.sessions.findByTokenHash(hashToken(dave.sessionToken!));
    const origin = (await h.deps.store.sessions.findById(enrollmentSession!.id))!.origin;
    expect(origin).toBeDefined();
    expect((await h.deps.store.sessions.findById(fullSession!.id))!.origin).toEqual(origin);
    const userId = (await h.deps.store.users.findByUsername('dave'))!.id;
    expect(await h.deps.store.factors.countRecoveryCodesLeft(userId)).toBe(10);
    const [event] = await h.deps.store.events
      .list({ userId, limit: 5 })
      .then((e) => e.filter((x) => x.type === 'factor.webauthn.enrolled'));
    expect(event).toBeDefined();

    // A passkey-only account can replace its recovery codes (the passkey just used is fresh).
    const regenerated = await dave.post('/api/v1/factors/recovery-codes');
    expect(regenerated.status, JSON.stringify(regenerated.body)).toBe(200);
    expect(regenerated.body.recovery_codes).toHaveLength(10);
    expect(regenerated.body.recovery_codes[0]).not.toBe(registered.body.recovery_codes[0]);
    registered.body.recovery_codes = regenerated.body.recovery_codes;

    // The next sign-in asks for the passkey (or a recovery code); a recovery code works.
    await dave.logout();
    const login = await dave.login('dave', STRONG_PASSWORD);
    expect(login.body).toMatchObject({ state: 'second_factor_required', methods: ['webauthn', 'recovery_code'] });
    expect((await answerWithPasskey(dave, key)).body.state).toBe('authenticated');
    await dave.logout();
    await dave.login('dave', STRONG_PASSWORD);
    expect((await dave.secondFactor('recovery_code', registered.body.recovery_codes[0])).status).toBe(200);
  });

  it('the step-up page of a passkey-only account offers the passkey and a recovery code, never an app code', async () => {
    h = await startHarness({ overrides: { public_url: ORIGIN } });
    await addUser(h.deps, { username: 'fay', password: STRONG_PASSWORD, isAdmin: false }, null);
    const fay = new ApiClient(h);
    expect((await fay.login('fay', STRONG_PASSWORD)).body.state).toBe('enrollment_required');
    expect((await registerPasskey(fay, new SoftAuthenticator())).status).toBe(201);

    const page = await fay.get('/step-up');
    expect(page.status).toBe(200);
    expect(page.body).toContain('Confirm with your passkey or security key');
    expect(page.body).toContain('/api/v1/session/step-up/webauthn/options');
    expect(page.body).not.toContain('Code from your authenticator app');
    expect(page.body).toContain('Use a recovery code instead');

    const recovery = await fay.get('/step-up?method=recovery_code');
    expect(recovery.body).toContain('Recovery code');
    expect(recovery.body).not.toContain('Use your authenticator app instead');
  });

  it('a password-only enrollment session cannot add a passkey to an account that already has a factor', async () => {
    h = await startHarness({ overrides: { public_url: ORIGIN } });
    await addUser(h.deps, { username: 'erin', password: STRONG_PASSWORD, isAdmin: false }, null);
    const erin = new ApiClient(h);
    await enrollTotp(h, erin, 'erin', STRONG_PASSWORD);
    // A user whose factor an admin reset gets enrollment again; here: a direct restricted session with a factor present.
    const user = (await h.deps.store.users.findByUsername('erin'))!;
    const { issueSession } = await import('../../src/auth/sessions.js');
    const issued = await issueSession(h.deps, user, 'enrollment', [{ method: 'pwd', at: h.clock.now() }], {
      ip: '127.0.0.1',
      userAgent: 'x',
    });
    const other = new ApiClient(h);
    other.jar.set(other.names.session, issued.token);
    const refused = await other.post('/api/v1/factors/webauthn/registration/options', undefined, { csrf: 'origin' });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');
  });
});

describe('a suspected passkey clone raises later sign-ins', () => {
  it('makes the next sign-ins at least high risk, passkey only, with the reason, for webauthn.clone_risk_for', async () => {
    h = await startHarness({ overrides: { public_url: ORIGIN, webauthn: { clone_risk_for: '2d' } } });
    await addUser(h.deps, { username: 'alice', password: STRONG_PASSWORD, isAdmin: false }, null);
    const alice = new ApiClient(h);
    await enrollTotp(h, alice, 'alice', STRONG_PASSWORD);
    const key = new SoftAuthenticator();
    expect((await registerPasskey(alice, key)).status).toBe(201);
    const userId = (await h.deps.store.users.findByUsername('alice'))!.id;
    const lastDecision = async () =>
      (await h.deps.store.events.list({ userId, limit: 50 })).find((e) => e.type === 'risk.decision')!.detail as Record<string, unknown>;

    await alice.logout();
    expect((await alice.login('alice', STRONG_PASSWORD)).body.methods).toEqual(['webauthn', 'totp', 'recovery_code']);
    expect((await lastDecision()).reasons).not.toContain('passkey clone suspected');
    expect((await answerWithPasskey(alice, key, 5)).status).toBe(200);
    await alice.logout();
    await alice.login('alice', STRONG_PASSWORD);
    const cloned = await answerWithPasskey(alice, key, 3);
    expect(cloned.status).toBe(403);
    expect(cloned.body.error.code).toBe('passkey_clone_suspected');

    // The next sign-in: high band, a passkey only, and the reason in the decision.
    alice.clear();
    const after = await alice.login('alice', STRONG_PASSWORD);
    expect(after.body).toMatchObject({ state: 'second_factor_required', methods: ['webauthn'] });
    const decision = await lastDecision();
    expect(decision).toMatchObject({ band: 'high', decision: 'phishing_resistant_or_deny' });
    expect((decision.reasons as string[])[0]).toBe('passkey clone suspected');
    h.clock.advance(30_000);
    expect((await alice.secondFactor('totp', totpAt('AAAA', h.clock.now()))).body.error.code).toBe('method_not_available');

    // After clone_risk_for the flag no longer counts.
    h.clock.advance(2 * 86_400_000 + 60_000);
    alice.clear();
    const later = await alice.login('alice', STRONG_PASSWORD);
    expect(later.body.methods).toEqual(['webauthn', 'totp', 'recovery_code']);
    expect((await lastDecision()).reasons).not.toContain('passkey clone suspected');
  });

  it('does not lock out a user who removed the copied passkey: the policy factors still work', async () => {
    h = await startHarness({ overrides: { public_url: ORIGIN } });
    await addUser(h.deps, { username: 'alice', password: STRONG_PASSWORD, isAdmin: false }, null);
    const alice = new ApiClient(h);
    const enrolled = await enrollTotp(h, alice, 'alice', STRONG_PASSWORD);
    const key = new SoftAuthenticator();
    expect((await registerPasskey(alice, key)).status).toBe(201);
    await alice.logout();
    await alice.login('alice', STRONG_PASSWORD);
    expect((await answerWithPasskey(alice, key, 5)).status).toBe(200);
    await alice.logout();
    await alice.login('alice', STRONG_PASSWORD);
    expect((await answerWithPasskey(alice, key, 5)).status).toBe(403);
    const userId = (await h.deps.store.users.findByUsername('alice'))!.id;
    await h.deps.store.webauthn.removeCredential(userId, key.id);

    alice.clear();
    h.clock.advance(30_000);
    const login = await alice.login('alice', STRONG_PASSWORD);
    expect(login.body).toMatchObject({ state: 'second_factor_required', methods: ['totp', 'recovery_code'] });
    expect((await alice.secondFactor('totp', totpAt(enrolled.secret, h.clock.now()))).status).toBe(200);
    const decision = (await h.deps.store.events.list({ userId, limit: 50 })).find((e) => e.type === 'risk.decision')!.detail!;
    expect(decision).toMatchObject({ band: 'high' });
    expect(decision.reasons).toContain('passkey clone suspected');
  });
});
