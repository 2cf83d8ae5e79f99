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
  | 'enrollment_only'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'username_taken'
  | 'password_rejected'
  | 'setup_link_invalid'
  | 'no_pending_enrollment'
  | 'csrf_failed'
  | 'unavailable';

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
