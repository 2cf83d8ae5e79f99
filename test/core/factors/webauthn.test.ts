import { describe, expect, it } from 'vitest';
import {
  checkSignatureCounter,
  factorsOfAssertion,
  judgeChallenge,
  looksLikeChallenge,
  normalizeCredentialName,
  originFitsRpId,
  relyingParty,
  type StoredChallenge,
} from '../../../src/core/factors/webauthn.js';

describe('checkSignatureCounter (WebAuthn §7.2 step 21)', () => {
  it.each([
    [0, 0, true],
    [0, 1, true],
    [5, 6, true],
    [5, 1000, true],
  ])('stored %i, received %i: accepted', (stored, received) => {
    expect(checkSignatureCounter(stored, received)).toEqual({ ok: true, next: received });
  });
  it.each([
    [5, 5],
    [5, 4],
    [5, 0],
    [1, 0],
  ])('stored %i, received %i: a suspected clone', (stored, received) => {
    expect(checkSignatureCounter(stored, received)).toEqual({ ok: false, reason: 'counter_regressed', stored, received });
  });
});

describe('judgeChallenge: single use, bound, short-lived', () => {
  const stored: StoredChallenge = { purpose: 'sign_in', userId: 'usr_a', boundTo: 'pnd_1', expiresAt: 1000, usedAt: null };
  const expected = { purpose: 'sign_in' as const, userId: 'usr_a', boundTo: 'pnd_1', now: 999 };
  it('accepts the challenge for its own ceremony before it expires', () => {
    expect(judgeChallenge(stored, expected)).toEqual({ ok: true });
  });
  it('refuses unknown, used, expired and misbound challenges', () => {
    expect(judgeChallenge(undefined, expected)).toEqual({ ok: false, reason: 'unknown' });
    expect(judgeChallenge({ ...stored, usedAt: 10 }, expected)).toEqual({ ok: false, reason: 'used' });
    expect(judgeChallenge(stored, { ...expected, now: 1000 })).toEqual({ ok: false, reason: 'expired' });
    expect(judgeChallenge(stored, { ...expected, boundTo: 'pnd_2' })).toEqual({ ok: false, reason: 'wrong_ceremony' });
    expect(judgeChallenge(stored, { ...expected, userId: 'usr_b' })).toEqual({ ok: false, reason: 'wrong_ceremony' });
    expect(judgeChallenge(stored, { ...expected, purpose: 'step_up' })).toEqual({ ok: false, reason: 'wrong_ceremony' });
  });
  it('only takes base64url challenges of 16 to 64 bytes', () => {
    expect(looksLikeChallenge(Buffer.alloc(32).toString('base64url'))).toBe(true);
    expect(looksLikeChallenge(Buffer.alloc(16).toString('base64url'))).toBe(true);
    expect(looksLikeChallenge(Buffer.alloc(15).toString('base64url'))).toBe(false);
    expect(looksLikeChallenge('not base64url!')).toBe(false);
    expect(looksLikeChallenge('A'.repeat(200))).toBe(false);
  });
});

describe('policy: when a passkey counts as two factors', () => {
  it('counts two only with user verification and a policy that says so', () => {
    expect(factorsOfAssertion({ userVerified: true }, { uvCountsAsTwoFactors: true })).toBe(2);
    expect(factorsOfAssertion({ userVerified: true }, { uvCountsAsTwoFactors: false })).toBe(1);
    expect(factorsOfAssertion({ userVerified: false }, { uvCountsAsTwoFactors: true })).toBe(1);
  });
});

describe('relying party from configuration', () => {
  const base = { rpId: '', rpName: 'twofold', origins: [] as string[], timeoutMs: 60_000, uvCountsAsTwoFactors: false };
  it('defaults to the host and origin of public_url', () => {
    const problems: string[] = [];
    expect(relyingParty(base, new URL('https://auth.example.com'), problems)).toMatchObject({
      rpId: 'auth.example.com',
      origins: ['https://auth.example.com'],
      unavailableReason: null,
    });
    expect(problems).toEqual([]);
  });
  it('accepts a parent domain as RP ID and refuses origins outside it', () => {
    const problems: string[] = [];
    relyingParty({ ...base, rpId: 'example.com', origins: ['https://auth.example.com', 'https://evil.test'] }, undefined, problems);
    expect(problems).toEqual([expect.stringContaining('https://evil.test is not within the RP ID "example.com"')]);
  });
  it('leaves passkeys unavailable for a default IP-address RP ID, and refuses an explicit one', () => {
    const problems: string[] = [];
    expect(relyingParty(base, new URL('http://127.0.0.1:8080'), problems).unavailableReason).toContain('IP address');
    expect(problems).toEqual([]);
    relyingParty({ ...base, rpId: '10.0.0.1' }, new URL('https://auth.example.com'), problems);
    expect(problems).toEqual([expect.stringContaining('webauthn.rp_id')]);
  });
  it('matches origins to RP IDs by whole labels', () => {
    expect(originFitsRpId('https://login.example.com', 'example.com')).toBe(true);
    expect(originFitsRpId('https://example.com:8443', 'example.com')).toBe(true);
    expect(originFitsRpId('https://badexample.com', 'example.com')).toBe(false);
  });
  it('normalises credential names', () => {
    expect(normalizeCredentialName('  Key\u0007 ')).toBe('Key');
    expect(normalizeCredentialName('   ')).toBeNull();
    expect(normalizeCredentialName('x'.repeat(65))).toBeNull();
  });
});

describe('afterPassword with passkeys', () => {
  it('offers the passkey first, and a passkey alone is a second factor', async () => {
    const { afterPassword } = await import('../../../src/core/policy/second-factor-policy.js');
    expect(afterPassword({ totp: true, recoveryCodesLeft: 3, passkeys: 1 }, { requireSecondFactor: true })).toEqual({
      state: 'second_factor_required',
      methods: ['webauthn', 'totp', 'recovery_code'],
    });
    expect(afterPassword({ totp: false, recoveryCodesLeft: 0, passkeys: 2 }, { requireSecondFactor: false })).toEqual({
      state: 'second_factor_required',
      methods: ['webauthn'],
    });
  });
});
