/** The second factors a user can answer a challenge with. */
export type SecondFactorMethod = 'totp' | 'recovery_code';

export interface EnrolledFactors {
  totp: boolean;
  recoveryCodesLeft: number;
}

/** What a correct password leads to: the public states of POST /api/v1/login. */
export type PasswordStepOutcome =
  { state: 'authenticated' } | { state: 'second_factor_required'; methods: SecondFactorMethod[] } | { state: 'enrollment_required' };

/**
 * A user who has a second factor is always asked for it; one who has none is sent to enroll when
 * the policy requires two factors, and is otherwise signed in at AAL1.
 */
export function afterPassword(factors: EnrolledFactors, policy: { requireSecondFactor: boolean }): PasswordStepOutcome {
  if (factors.totp) {
    const methods: SecondFactorMethod[] = ['totp'];
    if (factors.recoveryCodesLeft > 0) methods.push('recovery_code');
    return { state: 'second_factor_required', methods };
  }
  if (policy.requireSecondFactor) return { state: 'enrollment_required' };
  return { state: 'authenticated' };
}
