/**
 * Every refusal twofold's API gives carries a stable machine-readable code
 * (`{"error":{"code":"…","message":"…",…}}`); the SDK turns each into a typed error so callers
 * branch on classes or codes, never on messages.
 */

/** The codes twofold answers with (src/auth/errors.ts and src/http/errors.ts), plus the SDK's own. */
export type TwofoldErrorCode =
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
  | 'csrf_failed'
  | 'unavailable'
  | 'store_unavailable'
  | 'passkey_invalid'
  | 'passkey_challenge_invalid'
  | 'passkey_unknown'
  | 'passkey_clone_suspected'
  | 'passkey_origin_mismatch'
  | 'passkey_unavailable'
  | 'phishing_resistant_required'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'method_not_allowed'
  | 'internal_error'
  /** SDK: twofold could not be reached or answered something that is not its JSON. */
  | 'twofold_unavailable'
  // Codes a newer twofold may add are still strings.
  | (string & {});

/** The machine-readable part of a 401 step_up_required (docs/tokens.md, "Step-up"). */
export interface StepUpChallenge {
  /** `stale` (too old), `aal` (one factor only), `phishing_resistant`, or `context_changed` (continuous evaluation). */
  reason: 'stale' | 'aal' | 'phishing_resistant' | 'context_changed' | (string & {});
  /** The factors that would do: `totp`, `recovery_code`, `webauthn`. */
  methods: string[];
  /** How recently a factor must have been proven, in seconds; null when age is not the issue. */
  max_age_s: number | null;
  /** Where to step up (POST). */
  endpoint?: string;
  /** context_changed: what changed (`asn_changed`, `country_changed`, …). */
  reasons?: string[];
}

/** The JSON body of every error answer, twofold's and the middleware's alike. */
export interface ErrorBody {
  error: { code: string; message: string; [detail: string]: unknown };
}

export class TwofoldError extends Error {
  constructor(
    readonly code: TwofoldErrorCode,
    message: string,
    /** The HTTP status twofold answered (0 when it did not answer). */
    readonly status: number,
    /** Everything in `error` beside code and message (e.g. `reason`, `step_up`). */
    readonly detail: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  /** `detail.reason` when twofold gave one (invalid_grant, unauthenticated). */
  get reason(): string | undefined {
    return typeof this.detail.reason === 'string' ? this.detail.reason : undefined;
  }
}

/** 401 unauthenticated: no valid session behind the credential (revoked, expired, unknown …). */
export class UnauthenticatedError extends TwofoldError {}

/** 401 invalid_credentials, invalid_code, code_replayed …: a sign-in or step-up answer was wrong. */
export class SignInError extends TwofoldError {}

/** 429 rate_limited. */
export class RateLimitedError extends TwofoldError {
  constructor(
    message: string,
    status: number,
    detail: Record<string, unknown>,
    /** Seconds, from Retry-After. */
    readonly retryAfter: number | undefined,
  ) {
    super('rate_limited', message, status, detail);
  }
}

/** 400 invalid_grant: the refresh token cannot be used (`reason`: unknown, revoked, expired, session_ended, malformed, reused). */
export class InvalidGrantError extends TwofoldError {}

/**
 * 400 invalid_grant with reason `reused`: a spent refresh token came back, so twofold ended the whole
 * token family and its session and recorded a theft (RFC 9700 §4.14.2). Sign in again; if this app
 * refreshed from two places at once, refresh from one place only.
 */
export class RefreshTokenReusedError extends InvalidGrantError {}

/** 401 step_up_required: prove a factor again (TwofoldClient.stepUp) and retry. */
export class StepUpRequiredError extends TwofoldError {
  get stepUp(): StepUpChallenge {
    return this.detail.step_up as StepUpChallenge;
  }
}

/** twofold did not answer, or answered something other than its JSON (a proxy's error page, a timeout). */
export class TwofoldUnavailableError extends TwofoldError {}

const SIGN_IN_CODES = new Set([
  'invalid_credentials',
  'invalid_code',
  'code_replayed',
  'pending_login_invalid',
  'too_many_attempts',
  'factor_locked',
  'method_not_available',
  'passkey_invalid',
  'passkey_challenge_invalid',
  'passkey_unknown',
  'passkey_clone_suspected',
  'passkey_origin_mismatch',
]);

/** The typed error for an error answer of twofold. */
export function errorFromBody(status: number, body: ErrorBody, retryAfter?: number): TwofoldError {
  const { code, message, ...detail } = body.error;
  if (code === 'rate_limited') return new RateLimitedError(message, status, detail, retryAfter);
  if (code === 'invalid_grant') {
    return detail.reason === 'reused'
      ? new RefreshTokenReusedError(code, message, status, detail)
      : new InvalidGrantError(code, message, status, detail);
  }
  if (code === 'step_up_required') return new StepUpRequiredError(code, message, status, detail);
  if (code === 'unauthenticated') return new UnauthenticatedError(code, message, status, detail);
  if (code === 'store_unavailable' || code === 'unavailable') return new TwofoldUnavailableError(code, message, status, detail);
  if (SIGN_IN_CODES.has(code)) return new SignInError(code, message, status, detail);
  return new TwofoldError(code, message, status, detail);
}

/** Whether a parsed JSON value is twofold's error shape. */
export function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null) return false;
  const error = (value as { error?: unknown }).error;
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string' &&
    typeof (error as { message?: unknown }).message === 'string'
  );
}
