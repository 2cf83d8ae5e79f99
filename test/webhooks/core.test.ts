import { describe, expect, it } from 'vitest';
import { checkEndpointUrl } from '../../src/core/webhooks/endpoint-url.js';
import { webhookPayload } from '../../src/core/webhooks/payload.js';
import { afterFailure, DEFAULT_RETRY_SCHEDULE, nominalRetryDelay } from '../../src/core/webhooks/retry-schedule.js';
import { checkSubscription, subscribesTo, WEBHOOK_EVENT_TYPES } from '../../src/core/webhooks/security-events.js';
import { newWebhookSecret, signWebhook, webhookSecretKey } from '../../src/core/webhooks/signature.js';
import { verifyStandardWebhook } from './receiver.js';

/** The pure parts of webhooks: signature, retry schedule, subscriptions, payload, endpoint URLs. */

const fixedRandom = (size: number) => Buffer.alloc(size, 7);

describe('signature (Standard Webhooks)', () => {
  it('is verified by an independent implementation of the spec, and fails on any change', () => {
    const secret = newWebhookSecret(fixedRandom);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const key = webhookSecretKey(secret)!;
    expect(key).toHaveLength(32);
    const body = JSON.stringify({ type: 'session.revoked', timestamp: '2026-01-01T00:00:00.000Z', data: { user_id: 'usr_1' } });
    const headers = signWebhook(key, 'msg_abc', 1_767_225_600.9, body);
    expect(headers['webhook-timestamp']).toBe('1767225600');
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(verifyStandardWebhook(secret, headers, body, 1_767_225_600)).toBe(true);
    expect(verifyStandardWebhook(secret, headers, `${body} `, 1_767_225_600)).toBe(false);
    expect(verifyStandardWebhook(secret, { ...headers, 'webhook-id': 'msg_other' }, body, 1_767_225_600)).toBe(false);
    expect(
      verifyStandardWebhook(
        newWebhookSecret((n) => Buffer.alloc(n, 8)),
        headers,
        body,
        1_767_225_600,
      ),
    ).toBe(false);
    // A stale timestamp is refused by the receiver (replay defence), even with a good signature.
    expect(verifyStandardWebhook(secret, headers, body, 1_767_225_600 + 600)).toBe(false);
  });

  it('matches the example of the Standard Webhooks reference libraries', () => {
    // The published test vector of the Standard Webhooks (and Svix) reference libraries.
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const body = '{"test": 2432232314}';
    const headers = signWebhook(webhookSecretKey(secret)!, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, body);
    expect(headers['webhook-signature']).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('refuses malformed secrets', () => {
    expect(webhookSecretKey('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBeNull();
    expect(webhookSecretKey('whsec_not base64!')).toBeNull();
    expect(webhookSecretKey('whsec_c2hvcnQ=')).toBeNull();
  });
});

describe('retry schedule', () => {
  it('grows exponentially from 5 s to a 10 h cap, like the Standard Webhooks schedule, and gives up after max attempts', () => {
    const delays = Array.from({ length: 8 }, (_, i) => nominalRetryDelay(i + 1, DEFAULT_RETRY_SCHEDULE));
    expect(delays).toEqual([5_000, 25_000, 125_000, 625_000, 3_125_000, 15_625_000, 36_000_000, 36_000_000]);
    const total = delays.reduce((a, b) => a + b, 0);
    // About a day of retries in all (Standard Webhooks' schedule spans about 27.6 h).
    expect(total / 3_600_000).toBeGreaterThan(20);
    expect(total / 3_600_000).toBeLessThan(30);
    expect(afterFailure(DEFAULT_RETRY_SCHEDULE.maxAttempts, 0, DEFAULT_RETRY_SCHEDULE, 0.5)).toEqual({ kind: 'give_up' });
  });

  it('spreads each delay by ±20% jitter', () => {
    const at = (unit: number) => (afterFailure(2, 1000, DEFAULT_RETRY_SCHEDULE, unit) as { at: number }).at - 1000;
    expect(at(0)).toBe(20_000);
    expect(at(0.5)).toBe(25_000);
    expect(at(0.999999)).toBeLessThanOrEqual(30_000);
    expect(at(0.999999)).toBeGreaterThan(29_999);
  });
});

describe('subscriptions', () => {
  it('accepts exact types, prefixes and "*", and refuses what matches nothing', () => {
    expect(checkSubscription(['session.revoked', ' login.* ', 'session.revoked'])).toEqual({
      ok: true,
      patterns: ['session.revoked', 'login.*'],
    });
    expect(checkSubscription(['*'])).toEqual({ ok: true, patterns: ['*'] });
    expect(checkSubscription([])).toMatchObject({ ok: false });
    expect(checkSubscription(['session.revokd'])).toMatchObject({ ok: false, problem: expect.stringContaining('session.revokd') });
    // Not a security event: enrollment steps, notifications and the webhook admin events stay inside.
    expect(checkSubscription(['notification.sent'])).toMatchObject({ ok: false });
  });

  it('matches event types', () => {
    expect(subscribesTo(['session.*'], 'session.revoked')).toBe(true);
    expect(subscribesTo(['session.*'], 'token.theft_detected')).toBe(false);
    expect(subscribesTo(['*'], 'risk.decision')).toBe(true);
    expect(subscribesTo(['*'], 'notification.sent')).toBe(false);
    expect(subscribesTo(['*'], 'webhook.endpoint_added')).toBe(false);
    for (const type of ['session.created', 'device.remembered', 'session.step_up', 'risk.decision', 'token.theft_detected']) {
      expect(WEBHOOK_EVENT_TYPES).toContain(type);
    }
  });
});

describe('payload', () => {
  it('carries ids and outcomes, and only allowlisted detail', () => {
    const payload = webhookPayload(
      {
        type: 'token.theft_detected',
        at: Date.UTC(2026, 0, 2, 3, 4, 5),
        outcome: 'failure',
        userId: 'usr_1',
        sessionId: 'ses_1',
        ip: '203.0.113.9',
        reason: 'refresh_token_reused',
        detail: { family: 'fam_1', refresh_token: 'secret-token-value', nested: { a: 1 }, reasons: ['x', 'y'] },
      },
      42,
    );
    expect(payload).toEqual({
      type: 'token.theft_detected',
      timestamp: '2026-01-02T03:04:05.000Z',
      data: {
        event_id: 42,
        outcome: 'failure',
        user_id: 'usr_1',
        session_id: 'ses_1',
        reason: 'refresh_token_reused',
        ip: '203.0.113.9',
        detail: { family: 'fam_1', reasons: ['x', 'y'] },
      },
    });
    expect(JSON.stringify(payload)).not.toContain('secret-token-value');
  });
});

describe('endpoint URLs', () => {
  it('accepts http(s) and refuses everything else clearly', () => {
    expect(checkEndpointUrl(' https://hooks.example.com/twofold?k=1 ')).toEqual({ ok: true, url: 'https://hooks.example.com/twofold?k=1' });
    expect(checkEndpointUrl('http://10.0.0.5:9000/in')).toMatchObject({ ok: true });
    for (const [url, problem] of [
      ['ftp://example.com/x', 'only http and https'],
      ['javascript:alert(1)', 'only http and https'],
      ['file:///etc/passwd', 'only http and https'],
      ['hooks.example.com/x', 'not an absolute URL'],
      ['https://user:pw@example.com/', 'user name or password'],
      ['https://example.com/#frag', 'fragment'],
      [`https://example.com/${'a'.repeat(2100)}`, 'longer than'],
    ] as const) {
      expect(checkEndpointUrl(url)).toMatchObject({ ok: false, problem: expect.stringContaining(problem) });
    }
  });
});
