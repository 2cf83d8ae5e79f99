import { describe, expect, it } from 'vitest';
import { bearerOf, presentedCredential, twofoldCookies } from '../../packages/sdk/src/credentials.js';
import { judgeStepUpOffline } from '../../packages/sdk/src/step-up.js';

/** The SDK's pure parts: what it reads from a request, and the offline step-up judgement. */

describe('reading the credential of a request', () => {
  it('takes the bearer of RFC 6750 (scheme in any case) and refuses other Authorization schemes as malformed', () => {
    expect(bearerOf(undefined)).toBeUndefined();
    expect(bearerOf('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerOf('bearer abc')).toBe('abc');
    expect(bearerOf('Bearer')).toBeNull();
    expect(bearerOf('Bearer a b')).toBeNull();
    expect(bearerOf('Basic YWxpY2U6cHc=')).toBeNull();
    expect(presentedCredential({ authorization: 'Basic YWxpY2U6cHc=' }, true)).toEqual({ kind: 'malformed' });
    expect(presentedCredential({ authorization: `Bearer ${'a'.repeat(4097)}` }, true)).toEqual({ kind: 'malformed' });
    expect(presentedCredential({ authorization: 'Bearer a.b.c' }, true)).toEqual({ kind: 'bearer', token: 'a.b.c', jwt: true });
    expect(presentedCredential({ authorization: 'Bearer ' + 'A'.repeat(43) }, true)).toMatchObject({ kind: 'bearer', jwt: false });
  });

  it('forwards only twofold’s cookies, and only when a session cookie is among them', () => {
    const header = 'app_session=secret-of-the-app; __Host-twofold_session=S1; __Host-twofold_device=D1; theme=dark';
    expect(twofoldCookies(header)).toEqual([
      ['__Host-twofold_session', 'S1'],
      ['__Host-twofold_device', 'D1'],
    ]);
    expect(presentedCredential({ cookie: header }, true)).toEqual({
      kind: 'cookie',
      cookieHeader: '__Host-twofold_session=S1; __Host-twofold_device=D1',
    });
    // The bearer wins, as at twofold; offline never reads cookies; a device cookie alone is no credential.
    expect(presentedCredential({ cookie: header, authorization: 'Bearer t' }, true)).toMatchObject({ kind: 'bearer' });
    expect(presentedCredential({ cookie: header }, false)).toEqual({ kind: 'none' });
    expect(presentedCredential({ cookie: 'twofold_device=D1' }, true)).toEqual({ kind: 'none' });
    // A value that could break out of the forwarded header is dropped.
    expect(twofoldCookies('twofold_session=a,b; twofold_device="x"; twofold_csrf=ok')).toEqual([['twofold_csrf', 'ok']]);
  });
});

describe('the offline step-up judgement', () => {
  const NOW = Date.UTC(2026, 0, 1, 12);
  const signedIn = (secondsAgo: number, amr = ['pwd', 'otp'], aal = 2) => ({ aal, amr, authTime: new Date(NOW - secondsAgo * 1000) });

  it('judges level, then kind of factor, then age, as twofold does', () => {
    expect(judgeStepUpOffline(signedIn(299), { maxAge: 300 }, NOW)).toBeNull();
    expect(judgeStepUpOffline(signedIn(301), { maxAge: 300 }, NOW)).toEqual({
      reason: 'stale',
      methods: ['totp', 'webauthn', 'recovery_code'],
      max_age_s: 300,
    });
    expect(judgeStepUpOffline(signedIn(10, ['pwd'], 1), { minAal: 2, maxAge: 300 }, NOW)?.reason).toBe('aal');
    expect(judgeStepUpOffline(signedIn(10), { phishingResistant: true }, NOW)).toEqual({
      reason: 'phishing_resistant',
      methods: ['webauthn'],
      max_age_s: null,
    });
    expect(judgeStepUpOffline(signedIn(10, ['pwd', 'hwk']), { phishingResistant: true, maxAge: 60 }, NOW)).toBeNull();
    expect(judgeStepUpOffline(signedIn(100_000), {}, NOW)).toBeNull();
  });
});
