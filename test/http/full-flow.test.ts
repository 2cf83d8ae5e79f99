import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { addUser, setUserDisabled } from '../../src/auth/users.js';
import type { SessionId } from '../../src/core/ids.js';
import type { User } from '../../src/store/store.js';
import { startHarness, type Harness } from '../support/harness.js';
import { ApiClient, OTHER_STRONG_PASSWORD, STRONG_PASSWORD, signInWithTotp, totpAt, type EnrolledUser } from './client.js';

/**
 * One user's whole life over the public HTTP API, step by step, against a real server (SQLite file,
 * argon2) with a manual clock. The steps share state and run in order: each `it` is one step of
 * the story and names the rule it checks.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

interface EventView {
  id: number;
  at: string;
  type: string;
  outcome: string;
  session_id: string | null;
  reason: string | null;
}

describe('the full HTTP flow: enrollment, two-factor sign-in, expiry, revocation', () => {
  let h: Harness;
  let alice: User;
  let bob: User;
  let enrolled: EnrolledUser;
  /** The browser alice uses throughout; other devices get their own clients. */
  let browser: ApiClient;
  const device = (name: string) => new ApiClient(h, { userAgent: `vitest ${name}` });

  /** Events shown by GET /api/v1/events since the last call, oldest first, as "type:outcome[:reason]". */
  let lastEventId = 0;
  async function newEvents(client: ApiClient): Promise<string[]> {
    const res = await client.get<{ events: EventView[] }>('/api/v1/events?limit=200');
    expect(res.status).toBe(200);
    const fresh = res.body.events.filter((e) => e.id > lastEventId).reverse();
    lastEventId = Math.max(lastEventId, ...res.body.events.map((e) => e.id));
    return fresh.map((e) => [e.type, e.outcome, e.reason].filter(Boolean).join(':'));
  }

  beforeAll(async () => {
    h = await startHarness();
    alice = await addUser(h.deps, { username: 'Alice', password: STRONG_PASSWORD, isAdmin: false }, null);
    bob = await addUser(h.deps, { username: 'bob', password: OTHER_STRONG_PASSWORD, isAdmin: false }, null);
    browser = device('browser');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a user without a second factor gets a restricted session that only allows enrollment', async () => {
    expect(alice.username).toBe('alice');
    const login = await browser.login('alice', STRONG_PASSWORD);
    expect(login.status).toBe(200);
    expect(login.body).toEqual({ state: 'enrollment_required', expires_at: new Date(h.clock.now() + 15 * MINUTE).toISOString() });
    expect(browser.sessionToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(browser.pendingToken).toBeUndefined();

    const session = await browser.session();
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({ kind: 'enrollment', aal: 1, amr: ['pwd'], user: { username: 'alice' } });

    // Everything but enrollment is refused to this session.
    for (const [method, url] of [
      ['GET', '/api/v1/sessions'],
      ['DELETE', '/api/v1/sessions'],
      ['POST', '/api/v1/factors/recovery-codes'],
    ] as const) {
      const res = await browser.request(method, url);
      expect(res.status, `${method} ${url}`).toBe(403);
      expect(res.body.error.code).toBe('enrollment_only');
    }
    const password = await browser.post('/api/v1/account/password', {
      current_password: STRONG_PASSWORD,
      new_password: OTHER_STRONG_PASSWORD,
    });
    expect(password.status).toBe(403);

    expect(await newEvents(browser)).toEqual([
      'user.created:success',
      'login.password:success',
      'risk.decision:success',
      'session.created:success',
    ]);
  });

  it('enrolls TOTP: secret, otpauth URI and QR code; a current code confirms it and yields 10 recovery codes', async () => {
    const enrollmentToken = browser.sessionToken!;
    const started = await browser.post('/api/v1/factors/totp');
    expect(started.status).toBe(200);
    const { secret, otpauth_uri, qr_svg } = started.body;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/); // 160 bits, RFC 4226 §4
    expect(otpauth_uri).toBe(`otpauth://totp/twofold:alice?secret=${secret}&issuer=twofold&algorithm=SHA1&digits=6&period=30`);
    expect(qr_svg).toContain('<svg');

    // Asking again shows the same pending secret, not a new one.
    expect((await browser.post('/api/v1/factors/totp')).body.secret).toBe(secret);

    const wrong = await browser.post('/api/v1/factors/totp/confirm', {
      code: '000000' === totpAt(secret, h.clock.now()) ? '111111' : '000000',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_code');

    const confirmed = await browser.post('/api/v1/factors/totp/confirm', { code: totpAt(secret, h.clock.now()) });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.ended_sessions).toBe(0);
    const codes: string[] = confirmed.body.recovery_codes;
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const code of codes) expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/);
    enrolled = { username: 'alice', password: STRONG_PASSWORD, secret, recoveryCodes: codes };

    // Enrollment raised the assurance, so the session was replaced: new token, the old one is dead.
    expect(browser.sessionToken).not.toBe(enrollmentToken);
    const session = await browser.session();
    expect(session.body).toMatchObject({ kind: 'full', aal: 2, amr: ['pwd', 'otp'] });
    expect((await browser.get('/api/v1/session', { bearer: enrollmentToken })).status).toBe(401);

    const factors = await browser.get('/api/v1/factors');
    expect(factors.body).toMatchObject({ totp: { enrolled: true }, recovery_codes_left: 10 });

    expect(await newEvents(browser)).toEqual([
      'factor.totp.enrollment_started:info',
      'factor.totp.enrolled:failure:invalid',
      'factor.totp.enrolled:success',
      'session.created:success',
      'session.revoked:success:replaced_after_enrollment',
    ]);
  });

  it('signs out: the session ends and its cookies are cleared', async () => {
    const token = browser.sessionToken!;
    const out = await browser.logout();
    expect(out.status).toBe(204);
    expect(browser.sessionToken).toBeUndefined();
    expect(browser.csrfToken).toBeUndefined();
    const after = await browser.get('/api/v1/session', { bearer: token });
    expect(after.status).toBe(401);
    expect(after.body.error).toMatchObject({ code: 'unauthenticated', reason: 'revoked' });
  });

  it('signs in with password + TOTP: GET /api/v1/session shows aal 2 and amr [pwd, otp]', async () => {
    h.clock.advance(30_000); // the enrollment code's step is spent
    const login = await browser.login('ALICE', STRONG_PASSWORD); // usernames are case-insensitive
    expect(login.status).toBe(200);
    expect(login.body).toEqual({
      state: 'second_factor_required',
      methods: ['totp', 'recovery_code'],
      expires_at: new Date(h.clock.now() + 5 * MINUTE).toISOString(),
    });
    expect(browser.pendingToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(browser.sessionToken).toBeUndefined();
    // A pending sign-in is not a session.
    expect((await browser.session()).status).toBe(401);

    const signedInAt = h.clock.now();
    const second = await browser.secondFactor('totp', totpAt(enrolled.secret, signedInAt));
    expect(second.status).toBe(200);
    expect(second.body).toEqual({ state: 'authenticated', expires_at: new Date(signedInAt + 12 * HOUR).toISOString() });
    expect(browser.pendingToken).toBeUndefined();

    const session = await browser.session();
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({
      user: { id: alice.id, username: 'alice', display_name: 'alice', is_admin: false },
      kind: 'full',
      aal: 2,
      amr: ['pwd', 'otp'],
      auth_time: new Date(signedInAt).toISOString(),
      expires_at: new Date(signedInAt + 12 * HOUR).toISOString(),
      idle_expires_at: new Date(signedInAt + 30 * MINUTE).toISOString(),
    });

    expect(await newEvents(browser)).toEqual([
      'session.logout:success:logout',
      'login.password:success',
      'risk.decision:success',
      'login.second_factor:success',
      'session.created:success',
    ]);
  });

  it('refuses the same TOTP code replayed on a new sign-in (code_replayed)', async () => {
    const usedCode = totpAt(enrolled.secret, h.clock.now());
    const attacker = device('replay');
    expect((await attacker.login('alice', STRONG_PASSWORD)).body.state).toBe('second_factor_required');
    const replay = await attacker.secondFactor('totp', usedCode);
    expect(replay.status).toBe(401);
    expect(replay.body.error.code).toBe('code_replayed');
    expect(attacker.sessionToken).toBeUndefined();

    expect(await newEvents(browser)).toEqual(['login.password:success', 'risk.decision:success', 'login.second_factor:failure:replayed']);
  });

  it('accepts a recovery code once, then refuses it', async () => {
    const [code] = enrolled.recoveryCodes;
    const phone = device('recovery');
    await phone.login('alice', STRONG_PASSWORD);
    const used = await phone.secondFactor('recovery_code', code!.toUpperCase()); // typed by hand
    expect(used.status).toBe(200);
    expect((await phone.session()).body).toMatchObject({ aal: 2, amr: ['pwd', 'rc'] });
    expect((await phone.get('/api/v1/factors')).body.recovery_codes_left).toBe(9);

    const again = device('recovery again');
    await again.login('alice', STRONG_PASSWORD);
    const reused = await again.secondFactor('recovery_code', code!);
    expect(reused.status).toBe(401);
    expect(reused.body.error.code).toBe('invalid_code');

    expect(await newEvents(browser)).toEqual([
      'login.password:success',
      'risk.decision:success',
      'login.second_factor:success',
      'session.created:success',
      'login.password:success',
      'risk.decision:success',
      'login.second_factor:failure:invalid',
    ]);
  });

  it('ends a session after 31 idle minutes', async () => {
    const idle = device('idle');
    expect((await signInWithTotp(h, idle, enrolled)).status).toBe(200);
    h.clock.advance(29 * MINUTE);
    // Not used for 29 min: still alive (the request slides it). Then 31 idle minutes: gone.
    expect((await idle.session()).status).toBe(200);
    h.clock.advance(31 * MINUTE);
    const expired = await idle.session();
    expect(expired.status).toBe(401);
    expect(expired.body.error).toMatchObject({ code: 'unauthenticated', reason: 'expired' });
  });

  it('slides the idle expiry with activity, writing last_seen at most once a minute', async () => {
    const active = device('active');
    await signInWithTotp(h, active, enrolled);
    const start = h.clock.now();
    const id = (await active.session()).body.id as SessionId;
    const lastSeen = async () => (await h.deps.store.sessions.findById(id))!.lastSeenAt;
    const touches = vi.spyOn(h.deps.store.sessions, 'touch');
    try {
      // Requests within the first minute read the session only.
      for (const at of [10_000, 30_000, 59_999]) {
        h.clock.set(start + at);
        expect((await active.session()).status).toBe(200);
      }
      expect(touches).not.toHaveBeenCalled();
      expect(await lastSeen()).toBe(start);

      // One minute after the last write, a request writes once and slides the idle expiry.
      h.clock.set(start + MINUTE);
      const slid = await active.session();
      expect(slid.body.idle_expires_at).toBe(new Date(start + MINUTE + 30 * MINUTE).toISOString());
      expect(touches).toHaveBeenCalledTimes(1);
      expect(await lastSeen()).toBe(start + MINUTE);

      h.clock.set(start + MINUTE + 59_000);
      await active.session();
      expect(touches).toHaveBeenCalledTimes(1);
      expect(await lastSeen()).toBe(start + MINUTE);
      const listed = await active.get('/api/v1/sessions');
      expect(listed.body.sessions.find((s: { current: boolean }) => s.current).last_seen_at).toBe(new Date(start + MINUTE).toISOString());
    } finally {
      touches.mockRestore();
    }

    // Used every 25 minutes, the session outlives the 30-minute idle timeout many times over.
    for (let i = 1; i <= 6; i++) {
      h.clock.set(start + MINUTE + i * 25 * MINUTE);
      expect((await active.session()).status, `after ${i * 25} min`).toBe(200);
    }
    h.clock.advance(30 * MINUTE);
    expect((await active.session()).status).toBe(401);
  });

  it('ends a session 12 h after sign-in however active it is', async () => {
    const busy = device('busy');
    await signInWithTotp(h, busy, enrolled);
    const start = h.clock.now();
    for (let minutes = 20; minutes < 12 * 60; minutes += 20) {
      h.clock.set(start + minutes * MINUTE);
      expect((await busy.session()).status, `at ${minutes} min`).toBe(200);
    }
    // Last 20 minutes: the idle expiry is capped at the absolute one.
    const last = await busy.session();
    expect(last.body.idle_expires_at).toBe(last.body.expires_at);
    expect(last.body.expires_at).toBe(new Date(start + 12 * HOUR).toISOString());

    h.clock.set(start + 12 * HOUR);
    const ended = await busy.session();
    expect(ended.status).toBe(401);
    expect(ended.body.error.reason).toBe('expired');
  });

  it('revokes one session from another (DELETE /api/v1/sessions/{id}); the revoked one gets 401 at once', async () => {
    const laptop = device('laptop');
    const phone = device('phone');
    await signInWithTotp(h, laptop, enrolled);
    await signInWithTotp(h, phone, enrolled);
    const phoneId = (await phone.session()).body.id;

    const listed = await laptop.get('/api/v1/sessions');
    expect(listed.status).toBe(200);
    const mine = listed.body.sessions as Array<{ id: string; current: boolean; user_agent: string }>;
    expect(mine.filter((s) => s.current)).toHaveLength(1);
    expect(mine.find((s) => s.id === phoneId)).toMatchObject({ current: false, user_agent: 'vitest phone' });

    const revoked = await laptop.delete(`/api/v1/sessions/${phoneId}`);
    expect(revoked.status).toBe(204);
    const dead = await phone.session();
    expect(dead.status).toBe(401);
    expect(dead.body.error.reason).toBe('revoked');
    expect((await laptop.session()).status).toBe(200);
    // Revoking it again changes nothing; an unknown id is not found.
    expect((await laptop.delete(`/api/v1/sessions/${phoneId}`)).status).toBe(204); // already revoked: idempotent
    expect((await laptop.delete('/api/v1/sessions/ses_nope')).body.error.code).toBe('not_found');

    // Someone else's session id answers exactly like an unknown one, and stays alive.
    const bobs = device('bob');
    await bobs.login('bob', OTHER_STRONG_PASSWORD);
    const bobSessionId = (await bobs.session()).body.id;
    const foreign = await laptop.delete(`/api/v1/sessions/${bobSessionId}`);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe('not_found');
    expect((await bobs.session()).status).toBe(200);

    const events = await newEvents(laptop);
    expect(events.slice(-9)).toEqual([
      'login.password:success',
      'risk.decision:success',
      'login.second_factor:success',
      'session.created:success',
      'login.password:success',
      'risk.decision:success',
      'login.second_factor:success',
      'session.created:success',
      'session.revoked:success:revoked_by_user',
    ]);
    browser = laptop;
  });

  it('DELETE /api/v1/sessions ends all my other sessions and keeps this one', async () => {
    const phone = device('phone 2');
    const tablet = device('tablet');
    await signInWithTotp(h, phone, enrolled);
    await signInWithTotp(h, tablet, enrolled);
    const before = (await browser.get('/api/v1/sessions')).body.sessions as unknown[];
    expect(before.length).toBeGreaterThanOrEqual(3);

    const res = await browser.delete('/api/v1/sessions');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ revoked: before.length - 1 });
    expect((await phone.session()).status).toBe(401);
    expect((await tablet.session()).status).toBe(401);
    const after = await browser.get('/api/v1/sessions');
    expect(after.body.sessions).toHaveLength(1);
    expect(after.body.sessions[0].current).toBe(true);

    const events = await newEvents(browser);
    expect(events.slice(-1)).toEqual(['session.revoked:success:revoked_by_user']);
  });

  it('disabling the user ends all their sessions at once, and sign-in is refused like a wrong password', async () => {
    const phone = device('phone 3');
    await signInWithTotp(h, phone, enrolled);
    const result = await setUserDisabled(h.deps, alice, true, null);
    expect(result.endedSessions).toBe(2);
    expect((await browser.session()).status).toBe(401);
    expect((await phone.session()).status).toBe(401);

    const refused = await device('disabled').login('alice', STRONG_PASSWORD);
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ error: { code: 'invalid_credentials', message: 'Invalid username or password.' } });

    await setUserDisabled(h.deps, alice, false, null);
    browser = device('browser again');
    expect((await signInWithTotp(h, browser, enrolled)).status).toBe(200);
    expect(await newEvents(browser)).toEqual([
      'login.password:success',
      'risk.decision:success',
      'login.second_factor:success',
      'session.created:success',
      'user.disabled:success',
      'session.revoked:success:user_disabled',
      'login.password:failure:user_disabled',
      'user.enabled:success',
      'login.password:success',
      'risk.decision:success',
      'login.second_factor:success',
      'session.created:success',
    ]);
  });

  it('a password change needs the current password and ends the other sessions by default', async () => {
    const phone = device('phone 4');
    await signInWithTotp(h, phone, enrolled);

    const wrong = await browser.post('/api/v1/account/password', {
      current_password: 'not my password at all',
      new_password: OTHER_STRONG_PASSWORD,
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_credentials');
    expect((await phone.session()).status).toBe(200);

    const weak = await browser.post('/api/v1/account/password', { current_password: STRONG_PASSWORD, new_password: 'password' });
    expect(weak.status).toBe(400);
    expect(weak.body.error).toMatchObject({ code: 'password_rejected', reason: 'password_too_common' });

    const changed = await browser.post('/api/v1/account/password', {
      current_password: STRONG_PASSWORD,
      new_password: OTHER_STRONG_PASSWORD,
    });
    expect(changed.status).toBe(200);
    expect(changed.body).toEqual({ ended_sessions: 1 });
    expect((await phone.session()).status).toBe(401);
    expect((await browser.session()).status).toBe(200);

    expect((await device('old').login('alice', STRONG_PASSWORD)).status).toBe(401);
    enrolled = { ...enrolled, password: OTHER_STRONG_PASSWORD };
    const keep = device('kept');
    expect((await signInWithTotp(h, keep, enrolled)).status).toBe(200);

    // Asked to keep them, the other sessions survive.
    const kept = await browser.post('/api/v1/account/password', {
      current_password: OTHER_STRONG_PASSWORD,
      new_password: STRONG_PASSWORD,
      end_other_sessions: false,
    });
    expect(kept.body).toEqual({ ended_sessions: 0 });
    expect((await keep.session()).status).toBe(200);

    expect(await newEvents(browser)).toEqual([
      'login.password:success',
      'risk.decision:success',
      'login.second_factor:success',
      'session.created:success',
      'password.changed:failure:wrong_current_password',
      'password.changed:success',
      'session.revoked:success:password_changed',
      'login.password:failure:wrong_password',
      'login.password:success',
      'risk.decision:success',
      'login.second_factor:success',
      'session.created:success',
      'password.changed:success',
    ]);
  });

  it("GET /api/v1/events shows only the user's own events, newest first, paginated", async () => {
    const res = await browser.get<{ events: EventView[]; next_before: number | null }>('/api/v1/events?limit=200');
    const shown = res.body.events;
    const stored = await h.deps.store.events.list({ limit: 10_000 });
    const aliceIds = stored.filter((e) => e.userId === alice.id).map((e) => e.id);
    expect(shown.map((e) => e.id)).toEqual(aliceIds);
    // Bob's events and anonymous ones exist, and none of them is shown to alice.
    const others = stored.filter((e) => e.userId !== alice.id);
    expect(others.some((e) => e.userId === bob.id)).toBe(true);
    expect(shown.some((e) => others.some((o) => o.id === e.id))).toBe(false);
    expect(res.body.next_before).toBeNull();

    const page1 = await browser.get('/api/v1/events?limit=3');
    expect(page1.body.events.map((e: EventView) => e.id)).toEqual(aliceIds.slice(0, 3));
    const page2 = await browser.get(`/api/v1/events?limit=3&before=${page1.body.next_before}`);
    expect(page2.body.events.map((e: EventView) => e.id)).toEqual(aliceIds.slice(3, 6));

    // Bob sees his own only.
    const bobs = device('bob again');
    await bobs.login('bob', OTHER_STRONG_PASSWORD);
    const bobEvents = (await bobs.get('/api/v1/events?limit=200')).body.events as EventView[];
    expect(bobEvents.length).toBeGreaterThan(0);
    expect(bobEvents.every((e) => !aliceIds.includes(e.id))).toBe(true);
  });
});
