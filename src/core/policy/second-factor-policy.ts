/** The second factors a user can answer a challenge with. */
export type SecondFactorMethod = 'totp' | 'recovery_code' | 'webauthn';

/** The methods answered with a typed code (the others are ceremonies with a browser). */
export type CodeMethod = Exclude<SecondFactorMethod, 'webauthn'>;

export interface EnrolledFactors {
  totp: boolean;
  recoveryCodesLeft: number;
  /** Registered passkeys and security keys (WebAuthn credentials). */
  passkeys?: number;
}

/** What a correct password leads to: the public states of POST /api/v1/login. */
export type PasswordStepOutcome =
  { state: 'authenticated' } | { state: 'second_factor_required'; methods: SecondFactorMethod[] } | { state: 'enrollment_required' };

/**
 * A user who has a second factor is always asked for it; one who has none is sent to enroll when
 * the policy requires two factors, and is otherwise signed in at AAL1. A passkey, the one
 * phishing-resistant factor (NIST 800-63B §5.2.5), is offered first when the user has one.
 */
export function afterPassword(factors: EnrolledFactors, policy: { requireSecondFactor: boolean }): PasswordStepOutcome {
  const passkeys = (factors.passkeys ?? 0) > 0;
  if (factors.totp || passkeys) {
    const methods: SecondFactorMethod[] = [];
    if (passkeys) methods.push('webauthn');
    if (factors.totp) methods.push('totp');
    if (factors.recoveryCodesLeft > 0) methods.push('recovery_code');
    return { state: 'second_factor_required', methods };
  }
  if (policy.requireSecondFactor) return { state: 'enrollment_required' };
  return { state: 'authenticated' };
}
