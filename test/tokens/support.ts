import { expect } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import type { Harness } from '../support/harness.js';
import { ApiClient, enrollTotp, STRONG_PASSWORD, totpAt, type ApiReply, type EnrolledUser } from '../http/client.js';

/** What a token sign-in answers: RFC 6749 §5.1 names plus the sign-in state. */
export interface TokenPair {
  state: 'authenticated';
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

/** A user with an authenticator, enrolled through the API by a browser-like client. */
export async function enrolledUser(h: Harness, username = 'alice'): Promise<EnrolledUser> {
  await addUser(h.deps, { username, password: STRONG_PASSWORD, isAdmin: false }, null);
  return enrollTotp(h, new ApiClient(h, { userAgent: `vitest browser of ${username}` }), username, STRONG_PASSWORD);
}

/**
 * Signs in asking for tokens, as an app without cookies would: the password answers a pending
 * token in the body, which goes back as Authorization: Bearer with the TOTP code.
 */
export async function tokenSignIn(
  h: Harness,
  client: ApiClient,
  user: EnrolledUser,
): Promise<{ login: ApiReply; reply: ApiReply<TokenPair> }> {
  h.clock.advance(30_000); // each TOTP step is good once
  const login = await client.post(
    '/api/v1/login',
    { username: user.username, password: user.password, session_type: 'tokens' },
    { noCookies: true },
  );
  expect(login.status, JSON.stringify(login.body)).toBe(200);
  expect(login.body.state).toBe('second_factor_required');
  const reply = await client.post<TokenPair>(
    '/api/v1/login/second-factor',
    { method: 'totp', code: totpAt(user.secret, h.clock.now()) },
    { bearer: login.body.pending_token },
  );
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return { login, reply };
}

/** POST /api/v1/token, JSON by default or form-encoded as RFC 6749 writes it. */
export function refresh(
  client: ApiClient,
  refreshToken: string,
  form = false,
): Promise<ApiReply<TokenPair & { error?: { code: string; reason?: string } }>> {
  if (form) {
    return client.post('/api/v1/token', `grant_type=refresh_token&refresh_token=${encodeURIComponent(refreshToken)}`, {
      noCookies: true,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  }
  return client.post('/api/v1/token', { grant_type: 'refresh_token', refresh_token: refreshToken }, { noCookies: true });
}
