import { describe, expect, it } from 'vitest';
import { afterPassword, type EnrolledFactors, type PasswordStepOutcome } from '../../../src/core/policy/second-factor-policy.js';

describe('afterPassword: what a correct password leads to', () => {
  it.each<[EnrolledFactors, boolean, PasswordStepOutcome]>([
    // A user with a second factor is always asked for it, whatever the policy.
    [{ totp: true, recoveryCodesLeft: 10 }, true, { state: 'second_factor_required', methods: ['totp', 'recovery_code'] }],
    [{ totp: true, recoveryCodesLeft: 1 }, true, { state: 'second_factor_required', methods: ['totp', 'recovery_code'] }],
    [{ totp: true, recoveryCodesLeft: 10 }, false, { state: 'second_factor_required', methods: ['totp', 'recovery_code'] }],
    // Recovery codes are offered only while some are left.
    [{ totp: true, recoveryCodesLeft: 0 }, true, { state: 'second_factor_required', methods: ['totp'] }],
    [{ totp: true, recoveryCodesLeft: 0 }, false, { state: 'second_factor_required', methods: ['totp'] }],
    // No factor: enroll when two are required, else a one-factor session.
    [{ totp: false, recoveryCodesLeft: 0 }, true, { state: 'enrollment_required' }],
    [{ totp: false, recoveryCodesLeft: 0 }, false, { state: 'authenticated' }],
    // Recovery codes without TOTP (an inconsistent store) are no second factor.
    [{ totp: false, recoveryCodesLeft: 5 }, true, { state: 'enrollment_required' }],
  ])('%j with require_second_factor=%s → %j', (factors, requireSecondFactor, outcome) => {
    expect(afterPassword(factors, { requireSecondFactor })).toEqual(outcome);
  });
});
