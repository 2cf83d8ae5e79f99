import type { Session } from '../session/session.js';

/**
 * The claims of an access token (RFC 9068 where it names them; OIDC for auth_time, acr, amr).
 * Times are seconds since the epoch, as JWTs count them.
 */
export interface AccessClaims {
  iss: string;
  sub: string;
  aud?: string | string[];
  /** The twofold session behind the token: what revocation is checked by. */
  sid: string;
  aal: number;
  amr: string[];
  auth_time: number;
  acr: string;
  jti: string;
  iat: number;
  exp: number;
}

/** NIST assurance levels as ACR values, the names used by the US federal profile (idmanagement.gov). */
export const acrOf = (aal: number): string => `http://idmanagement.gov/ns/assurance/aal/${aal}`;

const seconds = (ms: number): number => Math.floor(ms / 1000);

export function accessClaims(
  session: Pick<Session, 'id' | 'userId' | 'aal' | 'amr' | 'authTime'>,
  input: { issuer: string; audience: string[]; jti: string; now: number; ttlMs: number },
): AccessClaims {
  const iat = seconds(input.now);
  return {
    iss: input.issuer,
    sub: session.userId,
    ...(input.audience.length === 0 ? {} : { aud: input.audience.length === 1 ? input.audience[0]! : input.audience }),
    sid: session.id,
    aal: session.aal,
    amr: [...new Set(session.amr.map((use) => use.method))],
    auth_time: seconds(session.authTime),
    acr: acrOf(session.aal),
    jti: input.jti,
    iat,
    exp: iat + Math.max(1, seconds(input.ttlMs)),
  };
}
