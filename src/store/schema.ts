import type { Generated } from 'kysely';

/** Table shapes as stored. Times are integer milliseconds since the epoch; booleans are 0/1. */
export interface UsersTable {
  id: string;
  username: string;
  display_name: string;
  email: string | null;
  password_hash: string;
  is_admin: number;
  disabled: number;
  /** Consecutive failed second-factor attempts (NIST 800-63B caps them at 100). */
  factor_failures: number;
  created_at: number;
  updated_at: number;
}

export interface TotpFactorsTable {
  id: string;
  user_id: string;
  /** AES-256-GCM sealed secret, bound to the factor id as associated data. */
  secret_sealed: string;
  algorithm: string;
  digits: number;
  period: number;
  confirmed_at: number | null;
  last_used_step: number | null;
  created_at: number;
}

export interface RecoveryCodesTable {
  id: Generated<number>;
  user_id: string;
  code_hash: string;
  used_at: number | null;
  created_at: number;
}

export interface SessionsTable {
  id: string;
  token_hash: string;
  user_id: string;
  kind: string;
  aal: number;
  /** JSON array of { method, at }. */
  amr: string;
  auth_time: number;
  created_at: number;
  last_seen_at: number;
  idle_expires_at: number;
  expires_at: number;
  ip: string;
  user_agent: string;
  revoked_at: number | null;
  revoked_reason: string | null;
  /** This session's own idle timeout, set when risk shortened it (migration 003); null: the configured one. */
  idle_timeout_ms?: number | null;
  /** The opening sign-in's country, ASN, risk band and score (migration 005); null: unknown. */
  country?: string | null;
  asn?: string | null;
  risk_band?: string | null;
  risk_score?: number | null;
  /** SHA-256 of the device cookie id the session was created with (migration 006); null: not device-bound. */
  device_hash?: string | null;
}

export interface PendingLoginsTable {
  id: string;
  token_hash: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  attempts: number;
  consumed_at: number | null;
  ip: string;
  user_agent: string;
  /** 'cookie' or 'tokens' (migration 002). */
  session_type: Generated<string>;
}

export interface SetupTokensTable {
  token_hash: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

export interface EventsTable {
  id: Generated<number>;
  at: number;
  type: string;
  outcome: string;
  user_id: string | null;
  session_id: string | null;
  ip: string | null;
  user_agent: string | null;
  reason: string | null;
  /** JSON object with event-specific detail; never a secret. */
  detail: string | null;
}

export interface WebAuthnCredentialsTable {
  /** Credential id chosen by the authenticator, base64url. */
  id: string;
  user_id: string;
  name: string;
  /** COSE public key, base64url. */
  public_key: string;
  counter: number;
  /** JSON array of transport hints. */
  transports: string;
  aaguid: string;
  backup_eligible: number;
  backup_state: number;
  created_at: number;
  last_used_at: number | null;
}

export interface WebAuthnChallengesTable {
  /** SHA-256 (hex) of the challenge: the challenge itself is never stored. */
  challenge_hash: string;
  purpose: string;
  user_id: string;
  bound_to: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/** Migration 002: access-token signing keys and refresh-token families (docs/tokens.md). */
export interface SigningKeysTable {
  kid: string;
  algorithm: string;
  /** JSON of the public JWK. */
  public_jwk: string;
  private_sealed: string;
  created_at: number;
  retired_at: number | null;
  verify_until: number | null;
}

export interface RefreshFamiliesTable {
  id: string;
  session_id: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  idle_expires_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
}

export interface RefreshTokensTable {
  /** SHA-256 of the refresh token: the token itself is never stored. */
  token_hash: string;
  family_id: string;
  issued_at: number;
  used_at: number | null;
}

export interface Database {
  users: UsersTable;
  totp_factors: TotpFactorsTable;
  recovery_codes: RecoveryCodesTable;
  sessions: SessionsTable;
  pending_logins: PendingLoginsTable;
  setup_tokens: SetupTokensTable;
  events: EventsTable;
  signing_keys: SigningKeysTable;
  refresh_families: RefreshFamiliesTable;
  refresh_tokens: RefreshTokensTable;
  webauthn_credentials: WebAuthnCredentialsTable;
  webauthn_challenges: WebAuthnChallengesTable;
  login_history: LoginHistoryTable;
  trusted_devices: TrustedDevicesTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}

/** Migration 003: successful sign-ins as the risk engine saw them (docs/risk.md). */
export interface LoginHistoryTable {
  id: Generated<number>;
  user_id: string;
  at: number;
  ip: string;
  asn: string;
  country: string;
  region: string;
  city: string;
  latitude: number | null;
  longitude: number | null;
  user_agent: string;
  browser: string;
  os: string;
  device_type: string;
  /** SHA-256 of the device cookie's id; null when the browser sent none. */
  device_hash: string | null;
}

/** Migration 003: browsers a user chose to remember ("remember this device"). */
export interface TrustedDevicesTable {
  id: string;
  user_id: string;
  device_hash: string;
  /** SHA-256 of the cookie's current secret, replaced at each use. */
  secret_hash: string;
  label: string;
  ip: string;
  location: string;
  created_at: number;
  last_used_at: number;
  expires_at: number;
  revoked_at: number | null;
}

/** Migration 007: webhook endpoints, the delivery outbox and its attempt log (docs/webhooks.md). */
export interface WebhookEndpointsTable {
  id: string;
  url: string;
  description: string;
  /** JSON array of subscribed types and prefixes. */
  events: string;
  /** The whsec_ secret sealed with the master key; never stored in the clear. */
  secret_sealed: string;
  created_at: number;
}

export interface WebhookDeliveriesTable {
  id: string;
  endpoint_id: string;
  message_id: string;
  event_id: number | null;
  event_type: string;
  payload: string;
  status: string;
  attempts: Generated<number>;
  next_attempt_at: number | null;
  lease_token: string | null;
  created_at: number;
  delivered_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
}

export interface WebhookAttemptsTable {
  id: Generated<number>;
  delivery_id: string;
  endpoint_id: string;
  attempt: number;
  at: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}
