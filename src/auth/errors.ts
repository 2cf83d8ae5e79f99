/** Every refusal a use case can give, by stable machine-readable code. The HTTP layer maps codes to statuses in one table. */
export type ErrorCode =
  | 'bad_request'
  | 'invalid_credentials'
  | 'rate_limited'
  | 'invalid_code'
  | 'code_replayed'
  | 'pending_login_invalid'
  | 'too_many_attempts'
  | 'factor_locked'
  | 'method_not_available'
  | 'unauthenticated'
  | 'step_up_required'
  | 'invalid_grant'
  | 'unsupported_grant_type'
  | 'enrollment_only'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'username_taken'
  | 'password_rejected'
  | 'setup_link_invalid'
  | 'reset_link_invalid'
  | 'no_pending_enrollment'
  | 'csrf_failed'
  | 'unavailable'
  | 'passkey_invalid'
  | 'passkey_challenge_invalid'
  | 'passkey_unknown'
  | 'passkey_clone_suspected'
  | 'passkey_origin_mismatch'
  | 'passkey_unavailable'
  | 'phishing_resistant_required';

export class AppError extends Error {
  constructor(
    public readonly code: ErrorCode,
    message: string,
    public readonly extra: { retryAfterSeconds?: number; detail?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = 'AppError';
  }
}
