import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { describeSecurityEvent } from '../../src/http/pages/security-events.js';
import type { AuditEvent } from '../../src/store/store.js';
import { startHarness, type Harness } from '../support/harness.js';
import { ApiClient, enrollTotp, signInWithTotp, STRONG_PASSWORD } from '../http/client.js';

/** The account page tells people, in plain words, where and how their account was signed in to. */

const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const SAFARI_MAC = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';

const event = (e: Partial<AuditEvent>): AuditEvent => ({
  at: 0,
  type: 'login.password',
  outcome: 'success',
  userId: null,
  sessionId: null,
  ip: '203.0.113.7',
  userAgent: FIREFOX_LINUX,
  reason: null,
  detail: null,
  ...e,
});

describe('security events in plain words', () => {
  it.each([
    [
      event({ type: 'login.second_factor', detail: { method: 'totp' } }),
      'New sign-in from 203.0.113.7 on Firefox / Linux — second factor asked',
    ],
    [
      event({ type: 'login.second_factor', detail: { method: 'recovery_code' } }),
      'New sign-in from 203.0.113.7 on Firefox / Linux — signed in with a recovery code',
    ],
    [event({ detail: { next: 'authenticated' } }), 'New sign-in from 203.0.113.7 on Firefox / Linux — no second factor asked'],
    [event({ detail: { next: 'second_factor_required' } }), 'Password accepted from 203.0.113.7 on Firefox / Linux — second factor asked'],
    [event({ outcome: 'failure', reason: 'wrong_password' }), 'Sign-in attempt with a wrong password from 203.0.113.7 on Firefox / Linux'],
    [
      event({
        type: 'risk.decision',
        detail: {
          score: 0.9,
          band: 'high',
          decision: 'second_factor',
          next: 'second_factor_required',
          reasons: ['new_country'],
          geo: { city: 'Lisbon', country: 'Portugal' },
        },
      }),
      'Sign-in from 203.0.113.7 (Lisbon, Portugal) on Firefox / Linux looked unusual (new country) — second factor asked',
    ],
    [
      event({ type: 'risk.decision', userAgent: null, detail: { score: 0.1, decision: 'allow', reasons: [] } }),
      'Sign-in from 203.0.113.7 looked usual — no second factor asked',
    ],
    [event({ type: 'password.changed' }), 'Password changed'],
  ])('%#: %s', (e, words) => expect(describeSecurityEvent(e)).toBe(words));
});

describe('the account page', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('lists recent sign-ins with address, device and what was asked', async () => {
    await addUser(h.deps, { username: 'alice', password: STRONG_PASSWORD, isAdmin: false }, null);
    const laptop = new ApiClient(h, { ip: '203.0.113.7', userAgent: FIREFOX_LINUX });
    const alice = await enrollTotp(h, laptop, 'alice', STRONG_PASSWORD);
    expect((await signInWithTotp(h, new ApiClient(h, { ip: '198.51.100.4', userAgent: SAFARI_MAC }), alice)).status).toBe(200);
    expect((await new ApiClient(h, { ip: '192.0.2.9', userAgent: FIREFOX_LINUX }).login('alice', 'not the password')).status).toBe(401);
    const page = await laptop.get('/account');
    expect(page.status).toBe(200);
    expect(page.body).toContain('New sign-in from 198.51.100.4 on Safari / Mac OS — second factor asked');
    expect(page.body).toContain('Sign-in attempt with a wrong password from 192.0.2.9 on Firefox / Linux');
  });
});
