import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { issueSession } from '../../src/auth/sessions.js';
import { addUser } from '../../src/auth/users.js';
import {
  finishPasskeyRegistration,
  startPasskeyAssertion,
  startPasskeyRegistration,
  verifyPasskeyAssertion,
} from '../../src/auth/webauthn.js';
import type { Session } from '../../src/core/session/session.js';
import type { User } from '../../src/store/store.js';
import { startHarness, type Harness } from '../support/harness.js';
import { SoftAuthenticator } from '../support/soft-authenticator.js';

/**
 * The ceremonies against a real twofold store (SQLite file) with real signatures from a software
 * authenticator. Every refusal must leave the stored credentials and challenges exactly as they were.
 */

const ORIGIN = 'http://localhost:8080';
const RP_ID = 'localhost';
const ctx = { ip: '127.0.0.1', userAgent: 'vitest' };
const hash = (challenge: string) => createHash('sha256').update(challenge).digest('hex');

describe('WebAuthn ceremonies', () => {
  let h: Harness;
  let user: User;
  let session: Session;
  let key: SoftAuthenticator;

  beforeEach(async () => {
    h = await startHarness({ overrides: { public_url: ORIGIN } });
    user = await addUser(h.deps, { username: 'alice', password: 'correct horse battery staple', isAdmin: false }, null);
    session = (await issueSession(h.deps, user, 'full', [{ method: 'pwd', at: h.clock.now() }], ctx)).session;
    key = new SoftAuthenticator();
  });
  afterEach(async () => h.close());

  async function register(): Promise<void> {
    const options = await startPasskeyRegistration(h.deps, user, session, ORIGIN);
    await finishPasskeyRegistration(h.deps, user, session, { response: key.register(options, { origin: ORIGIN }), name: 'Test key' }, ctx);
  }

  /** Everything a refused ceremony must leave untouched. */
  async function storedState(challenge?: string) {
    return {
      credentials: await h.deps.store.webauthn.listCredentials(user.id),
      challenge: challenge ? await h.deps.store.webauthn.findChallenge(hash(challenge)) : undefined,
      sessions: (await h.deps.store.sessions.listActive(h.clock.now(), { userId: user.id })).map((s) => s.id),
    };
  }

  const signIn = { purpose: 'step_up' as const, boundTo: '' };
  const assertionOptions = async () => {
    signIn.boundTo = session.id;
    return startPasskeyAssertion(h.deps, user, signIn, ORIGIN);
  };

  it('issues registration options with a 32-byte challenge for our RP, and stores only its hash', async () => {
    const options = await startPasskeyRegistration(h.deps, user, session, ORIGIN);
    expect(Buffer.from(options.challenge, 'base64url')).toHaveLength(32);
    expect(options.rp.id).toBe(RP_ID);
    const stored = await h.deps.store.webauthn.findChallenge(hash(options.challenge));
    expect(stored).toMatchObject({ purpose: 'registration', userId: user.id, boundTo: session.id, usedAt: null });
    expect(stored!.expiresAt - h.clock.now()).toBe(h.deps.config.webauthn.timeoutMs);
    expect(JSON.stringify(stored)).not.toContain(options.challenge);
  });

  it('registers a credential with its public key, counter, transports, AAGUID and backup flags', async () => {
    await register();
    const [credential] = await h.deps.store.webauthn.listCredentials(user.id);
    expect(credential).toMatchObject({
      id: key.id,
      name: 'Test key',
      counter: 0,
      transports: ['usb'],
      aaguid: '00000000-0000-0000-0000-000000000000',
      backupEligible: false,
      backupState: false,
      lastUsedAt: null,
    });
  });

  it('refuses a registration answered from another origin, storing nothing', async () => {
    const options = await startPasskeyRegistration(h.deps, user, session, ORIGIN);
    const before = await storedState(options.challenge);
    const answer = key.register(options, { origin: 'https://evil.example' });
    await expect(finishPasskeyRegistration(h.deps, user, session, { response: answer, name: 'x' }, ctx)).rejects.toMatchObject({
      code: 'passkey_invalid',
      extra: { detail: { reason: 'wrong_origin' } },
    });
    expect(await storedState(options.challenge)).toEqual(before);
  });

  it('refuses a registration made for another RP ID, storing nothing', async () => {
    const options = await startPasskeyRegistration(h.deps, user, session, ORIGIN);
    const before = await storedState(options.challenge);
    const answer = key.register(options, { origin: ORIGIN, rpId: 'evil.example' });
    await expect(finishPasskeyRegistration(h.deps, user, session, { response: answer, name: 'x' }, ctx)).rejects.toMatchObject({
      code: 'passkey_invalid',
      extra: { detail: { reason: 'wrong_rp_id' } },
    });
    expect(await storedState(options.challenge)).toEqual(before);
  });

  it('refuses a replayed registration answer: the challenge was spent by the first', async () => {
    const options = await startPasskeyRegistration(h.deps, user, session, ORIGIN);
    const answer = key.register(options, { origin: ORIGIN });
    await finishPasskeyRegistration(h.deps, user, session, { response: answer, name: 'first' }, ctx);
    const before = await storedState(options.challenge);
    await expect(finishPasskeyRegistration(h.deps, user, session, { response: answer, name: 'again' }, ctx)).rejects.toMatchObject({
      code: 'passkey_challenge_invalid',
    });
    expect(await storedState(options.challenge)).toEqual(before);
  });

  it('accepts a valid assertion once: counter and last use recorded, challenge spent', async () => {
    await register();
    const options = await assertionOptions();
    const result = await verifyPasskeyAssertion(h.deps, user, signIn, key.assert(options.challenge, { origin: ORIGIN, rpId: RP_ID }), ctx);
    expect(result).toMatchObject({ ok: true, credentialId: key.id, userVerified: true, factors: 1 });
    const [credential] = await h.deps.store.webauthn.listCredentials(user.id);
    expect(credential).toMatchObject({ counter: 1, lastUsedAt: h.clock.now() });
    expect((await h.deps.store.webauthn.findChallenge(hash(options.challenge)))?.usedAt).toBe(h.clock.now());
  });

  it('refuses a replayed assertion (same challenge, same signature) and changes nothing', async () => {
    await register();
    const options = await assertionOptions();
    const answer = key.assert(options.challenge, { origin: ORIGIN, rpId: RP_ID });
    expect((await verifyPasskeyAssertion(h.deps, user, signIn, answer, ctx)).ok).toBe(true);
    const before = await storedState(options.challenge);
    expect(await verifyPasskeyAssertion(h.deps, user, signIn, answer, ctx)).toEqual({ ok: false, reason: 'challenge_invalid' });
    expect(await storedState(options.challenge)).toEqual(before);
  });

  it('refuses a counter that went backwards, records webauthn.clone_suspected, and changes nothing else', async () => {
    await register();
    const first = await assertionOptions();
    await verifyPasskeyAssertion(h.deps, user, signIn, key.assert(first.challenge, { origin: ORIGIN, rpId: RP_ID, counter: 7 }), ctx);
    const options = await assertionOptions();
    const before = await storedState(options.challenge);
    const cloned = key.assert(options.challenge, { origin: ORIGIN, rpId: RP_ID, counter: 7 });
    expect(await verifyPasskeyAssertion(h.deps, user, signIn, cloned, ctx)).toEqual({ ok: false, reason: 'clone_suspected' });
    expect(await storedState(options.challenge)).toEqual(before);
    const [event] = await h.deps.store.events.list({ userId: user.id, limit: 1 });
    expect(event).toMatchObject({ type: 'webauthn.clone_suspected', outcome: 'failure', reason: 'counter_regressed' });
    expect(event!.detail).toMatchObject({ stored: 7, received: 7 });
  });

  it('accepts authenticators that keep no counter (always 0)', async () => {
    await register();
    for (let i = 0; i < 2; i++) {
      const options = await assertionOptions();
      const answer = key.assert(options.challenge, { origin: ORIGIN, rpId: RP_ID, counter: 0 });
      expect((await verifyPasskeyAssertion(h.deps, user, signIn, answer, ctx)).ok).toBe(true);
    }
  });

  it('refuses an assertion from another origin and changes nothing', async () => {
    await register();
    const options = await assertionOptions();
    const before = await storedState(options.challenge);
    const answer = key.assert(options.challenge, { origin: 'https://login.evil.example', rpId: RP_ID });
    expect(await verifyPasskeyAssertion(h.deps, user, signIn, answer, ctx)).toEqual({ ok: false, reason: 'wrong_origin' });
    expect(await storedState(options.challenge)).toEqual(before);
  });

  it('refuses an assertion signed for another RP ID and changes nothing', async () => {
    await register();
    const options = await assertionOptions();
    const before = await storedState(options.challenge);
    const answer = key.assert(options.challenge, { origin: ORIGIN, rpId: 'evil.example' });
    expect(await verifyPasskeyAssertion(h.deps, user, signIn, answer, ctx)).toEqual({ ok: false, reason: 'wrong_rp_id' });
    expect(await storedState(options.challenge)).toEqual(before);
  });

  it('refuses an unknown credential id, changing nothing', async () => {
    await register();
    const options = await assertionOptions();
    const before = await storedState(options.challenge);
    const stranger = new SoftAuthenticator();
    expect(
      await verifyPasskeyAssertion(h.deps, user, signIn, stranger.assert(options.challenge, { origin: ORIGIN, rpId: RP_ID }), ctx),
    ).toEqual({
      ok: false,
      reason: 'unknown_credential',
    });
    // A made-up id on a real key's signature is unknown too.
    const forged = key.assert(options.challenge, { origin: ORIGIN, rpId: RP_ID, credentialId: 'AAAAAAAAAAAAAAAAAAAAAA' });
    expect(await verifyPasskeyAssertion(h.deps, user, signIn, forged, ctx)).toEqual({ ok: false, reason: 'unknown_credential' });
    expect(await storedState(options.challenge)).toEqual(before);
  });

  it('refuses a signature made by another key for a registered credential id', async () => {
    await register();
    const options = await assertionOptions();
    const before = await storedState(options.challenge);
    const impostor = new SoftAuthenticator();
    const answer = impostor.assert(options.challenge, { origin: ORIGIN, rpId: RP_ID, credentialId: key.id });
    expect(await verifyPasskeyAssertion(h.deps, user, signIn, answer, ctx)).toEqual({ ok: false, reason: 'invalid' });
    expect(await storedState(options.challenge)).toEqual(before);
  });

  it('refuses a challenge issued for another session, another ceremony, or after the timeout', async () => {
    await register();
    const options = await assertionOptions();
    const answer = () => key.assert(options.challenge, { origin: ORIGIN, rpId: RP_ID, counter: key.counter + 1 });
    const before = await storedState(options.challenge);
    expect(await verifyPasskeyAssertion(h.deps, user, { purpose: 'step_up', boundTo: 'ses_other' }, answer(), ctx)).toEqual({
      ok: false,
      reason: 'challenge_invalid',
    });
    expect(await verifyPasskeyAssertion(h.deps, user, { purpose: 'sign_in', boundTo: session.id }, answer(), ctx)).toEqual({
      ok: false,
      reason: 'challenge_invalid',
    });
    h.clock.advance(h.deps.config.webauthn.timeoutMs);
    expect(await verifyPasskeyAssertion(h.deps, user, signIn, answer(), ctx)).toEqual({ ok: false, reason: 'challenge_invalid' });
    expect(await storedState(options.challenge)).toEqual(before);
  });

  it('keeps one live challenge per ceremony and binding: asking again replaces the unanswered one', async () => {
    await register();
    const first = await assertionOptions();
    const second = await assertionOptions();
    expect(await h.deps.store.webauthn.findChallenge(hash(first.challenge))).toBeUndefined();
    const stale = key.assert(first.challenge, { origin: ORIGIN, rpId: RP_ID });
    expect(await verifyPasskeyAssertion(h.deps, user, signIn, stale, ctx)).toEqual({ ok: false, reason: 'challenge_invalid' });
    const fresh = key.assert(second.challenge, { origin: ORIGIN, rpId: RP_ID });
    expect((await verifyPasskeyAssertion(h.deps, user, signIn, fresh, ctx)).ok).toBe(true);
  });

  it('says clearly when the page origin is not configured, or the RP ID is an IP address', async () => {
    await expect(startPasskeyRegistration(h.deps, user, session, 'http://127.0.0.1:8080')).rejects.toMatchObject({
      code: 'passkey_origin_mismatch',
      message: expect.stringContaining('webauthn.origins'),
    });
    const ip = await startHarness();
    try {
      const other = await addUser(ip.deps, { username: 'bob', password: 'correct horse battery staple', isAdmin: false }, null);
      const s = (await issueSession(ip.deps, other, 'full', [{ method: 'pwd', at: ip.clock.now() }], ctx)).session;
      await expect(startPasskeyRegistration(ip.deps, other, s, undefined)).rejects.toMatchObject({
        code: 'passkey_unavailable',
        message: expect.stringContaining('IP address'),
      });
    } finally {
      await ip.close();
    }
  });
});

describe('an administrator’s factor reset', () => {
  it('removes the passkeys too', async () => {
    const h = await startHarness({ overrides: { public_url: ORIGIN } });
    try {
      const { resetFactors } = await import('../../src/auth/users.js');
      const user = await addUser(h.deps, { username: 'carol', password: 'correct horse battery staple', isAdmin: false }, null);
      const session = (await issueSession(h.deps, user, 'full', [{ method: 'pwd', at: h.clock.now() }], ctx)).session;
      const key = new SoftAuthenticator();
      const options = await startPasskeyRegistration(h.deps, user, session, ORIGIN);
      await finishPasskeyRegistration(h.deps, user, session, { response: key.register(options, { origin: ORIGIN }), name: 'k' }, ctx);
      expect(await h.deps.store.webauthn.countCredentials(user.id)).toBe(1);
      await resetFactors(h.deps, user, null);
      expect(await h.deps.store.webauthn.countCredentials(user.id)).toBe(0);
    } finally {
      await h.close();
    }
  });
});
