import { authenticateAccessToken, looksLikeJwt, type AccessTokenAuthentication } from './access-tokens.js';
import type { AuthDeps } from './deps.js';
import { authenticate, type Authentication } from './sessions.js';

export type CredentialAuthentication = Authentication | AccessTokenAuthentication;

/**
 * Whatever a request presents: a session token (cookie or Bearer, 43 characters) or an access token
 * (a JWT, told apart by its dots). Both end in the same live-session check. A session token the
 * session cache answers is judged synchronously (authenticate()).
 */
export function authenticateCredential(
  deps: AuthDeps,
  token: string | undefined,
): CredentialAuthentication | Promise<CredentialAuthentication> {
  return token !== undefined && token.length > 43 && looksLikeJwt(token) ? authenticateAccessToken(deps, token) : authenticate(deps, token);
}
