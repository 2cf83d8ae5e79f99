import type { JWTPayload } from 'jose';

/** `GET /api/v1/session`: the live session behind a credential, as twofold describes it. */
export interface SessionView {
  id: string;
  user: { id: string; username: string; display_name: string; is_admin: boolean };
  kind: 'full' | 'enrollment';
  aal: number;
  amr: string[];
  factors: Array<{ method: string; at: string }>;
  auth_time: string;
  created_at: string;
  expires_at: string;
  idle_expires_at: string;
}

/** One row of `GET /api/v1/sessions`. */
export interface SessionListItem {
  id: string;
  current: boolean;
  kind: string;
  aal: number;
  ip: string;
  user_agent: string;
  browser: string;
  os: string;
  device: string;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  idle_expires_at: string;
}

/**
 * Who a request comes from, the same whichever way it was checked: `req.twofold` (Express) and
 * `request.twofold` (Fastify).
 */
export interface TwofoldIdentity {
  /** The user id (`usr_…`). */
  sub: string;
  /** The twofold session behind the credential: what revocation and step-up apply to. */
  sid: string;
  /** Authenticator assurance level (NIST 800-63B): 1 or 2. */
  aal: number;
  /** Methods used: `pwd`, `otp`, `rc`, `hwk` (RFC 8176 names). */
  amr: string[];
  /** When the user last proved a factor. */
  authTime: Date;
  /**
   * `offline`: the signature and claims of an access token, checked against the JWKS; a revoked
   * session still passes until the token expires. `online`: twofold itself said the session is live.
   */
  verifiedBy: 'offline' | 'online';
  /** The verified claims (offline). */
  claims?: JWTPayload;
  /** twofold's view of the session, with the user's name and each factor's time (online). */
  session?: SessionView;
}

export function identityFromClaims(claims: JWTPayload): TwofoldIdentity {
  return {
    sub: claims.sub as string,
    sid: claims.sid as string,
    aal: claims.aal as number,
    amr: claims.amr as string[],
    authTime: new Date((claims.auth_time as number) * 1000),
    verifiedBy: 'offline',
    claims,
  };
}

export function identityFromSession(session: SessionView): TwofoldIdentity {
  return {
    sub: session.user.id,
    sid: session.id,
    aal: session.aal,
    amr: session.amr,
    authTime: new Date(session.auth_time),
    verifiedBy: 'online',
    session,
  };
}

/** Claims an access token must carry, with the types the identity relies on. */
export function hasIdentityClaims(claims: JWTPayload): boolean {
  return (
    typeof claims.sub === 'string' &&
    typeof claims.sid === 'string' &&
    (claims.aal === 1 || claims.aal === 2) &&
    Array.isArray(claims.amr) &&
    claims.amr.every((method) => typeof method === 'string') &&
    typeof claims.auth_time === 'number' &&
    Number.isFinite(claims.auth_time)
  );
}
