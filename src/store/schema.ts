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

export interface Database {
  users: UsersTable;
  totp_factors: TotpFactorsTable;
  recovery_codes: RecoveryCodesTable;
  sessions: SessionsTable;
  pending_logins: PendingLoginsTable;
  setup_tokens: SetupTokensTable;
  events: EventsTable;
}
