import { describe, expect, it } from 'vitest';
import {
  allowedSignInMethod,
  mustUsePhishingResistant,
  phishingResistantPolicy,
  phishingResistantSignIn,
} from '../../../src/core/policy/phishing-resistant-policy.js';
import { judgeStepUp } from '../../../src/core/policy/step-up-policy.js';
import { decide } from '../../../src/core/risk/policy.js';
import { RiskEngine } from '../../../src/core/risk/engine.js';
import { DAY, T0, ctx } from '../risk/fixtures.js';

describe('webauthn.require_for (pure)', () => {
  it('names users (case-insensitively) and groups, and reports malformed subjects', () => {
    const problems: string[] = [];
    const policy = phishingResistantPolicy(['group:admins', 'user:Bob', 'admins'], problems);
    expect(problems).toEqual([expect.stringContaining('"admins" must be user:NAME or group:NAME')]);
    expect(mustUsePhishingResistant(policy, { username: 'bob', groups: [] })).toBe(true);
    expect(mustUsePhishingResistant(policy, { username: 'root', groups: ['admins'] })).toBe(true);
    expect(mustUsePhishingResistant(policy, { username: 'alice', groups: [] })).toBe(false);
  });

  it('plans the sign-in: passkey (recovery code as the way back), app code then registration, or registration', () => {
    const passkey = phishingResistantSignIn({ passkeys: 1, totp: true, recoveryCodesLeft: 3 });
    expect(passkey).toEqual({ kind: 'passkey', methods: ['webauthn', 'recovery_code'] });
    expect(allowedSignInMethod(passkey, 'totp')).toBe(false);
    expect(allowedSignInMethod(passkey, 'recovery_code')).toBe(true);
    expect(phishingResistantSignIn({ passkeys: 0, totp: true, recoveryCodesLeft: 0 })).toEqual({
      kind: 'prove_then_register',
      methods: ['totp'],
    });
    expect(phishingResistantSignIn({ passkeys: 0, totp: false, recoveryCodesLeft: 0 })).toEqual({ kind: 'register' });
  });

  it('a phishing-resistant requirement wants that factor fresh, not any factor', () => {
    const session = {
      aal: 2 as const,
      amr: [
        { method: 'pwd' as const, at: 0 },
        { method: 'hwk' as const, at: 1_000 },
        { method: 'otp' as const, at: 900_000 },
      ],
    };
    const requirement = { minAal: 2 as const, maxAuthAgeMs: 600_000 };
    expect(judgeStepUp(session, requirement, 1_000_000).kind).toBe('satisfied');
    expect(judgeStepUp(session, { ...requirement, phishingResistant: true }, 1_000_000)).toMatchObject({ reason: 'stale' });
    expect(judgeStepUp(session, { ...requirement, phishingResistant: true }, 500_000).kind).toBe('satisfied');
  });
});

describe('a suspected passkey clone in the risk engine', () => {
  it('raises the band to at least high, with the reason first; never lowers a higher band', () => {
    expect(decide('low', { cloneSuspected: true })).toBe('phishing_resistant_or_deny');
    expect(decide('low', { cloneSuspected: true, trustedDevice: true })).toBe('phishing_resistant_or_deny');
    expect(decide('very_high', { cloneSuspected: true })).toBe('deny');

    const e = new RiskEngine({ model: 'twofold', thresholds: { medium: 1, high: 3, veryHigh: 5 } });
    for (let i = 0; i < 20; i++) e.recordSuccess(ctx({ at: T0 + i * DAY, deviceId: 'laptop' }));
    const usual = ctx({ at: T0 + 20 * DAY, deviceId: 'laptop' });
    const plain = e.assess(usual);
    expect(plain.band).toBe('low');
    expect(plain.raisedFrom).toBeUndefined();
    const flagged = e.assess(usual, { cloneSuspected: true });
    expect(flagged).toMatchObject({ band: 'high', raisedFrom: 'low', decision: 'phishing_resistant_or_deny' });
    expect(flagged.reasons[0]).toBe('passkey clone suspected');
  });
});
