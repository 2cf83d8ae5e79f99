import { hashToken, looksLikeSecretToken, newSecretToken } from '../core/ids.js';
import { normalizeUsername } from '../core/identity/username.js';
import { recordEvent } from './audit.js';
import type { AuthDeps, RequestContext } from './deps.js';
import { AppError } from './errors.js';
import { assertAcceptablePassword } from './password-change.js';
import { issueSession, type IssuedSession } from './sessions.js';
import { addUser } from './users.js';

/**
 * First start: while no user exists, each start issues a new single-use link (older ones stop
 * working) through which the first administrator chooses a password and enrolls TOTP.
 */
export async function issueSetupLinkIfNeeded(deps: AuthDeps): Promise<string | null> {
  if ((await deps.store.users.count()) > 0) return null;
  const token = newSecretToken(deps.random);
  const now = deps.clock.now();
  await deps.store.setupTokens.replace(hashToken(token), now, now + deps.config.setup.linkLifetimeMs);
  return new URL(`/setup?token=${token}`, deps.config.publicUrl).toString();
}

export async function isSetupTokenValid(deps: AuthDeps, token: string | undefined): Promise<boolean> {
  if (!token || !looksLikeSecretToken(token)) return false;
  return deps.store.setupTokens.isValid(hashToken(token), deps.clock.now());
}

/** Creates the first administrator and signs them into a session that may only enroll a factor. */
export async function completeSetup(
  deps: AuthDeps,
  input: { token: string; username: string; password: string },
  ctx: RequestContext,
): Promise<IssuedSession> {
  const invalid = new AppError(
    'setup_link_invalid',
    'This setup link is not valid: it expired or was used. Restart twofold to print a new one.',
  );
  if (!(await isSetupTokenValid(deps, input.token))) throw invalid;
  // Validate the input before spending the single-use token, so a typo does not burn the link.
  const username = normalizeUsername(input.username);
  if (username === null) throw new AppError('bad_request', 'A username is 1 to 64 letters, digits or . _ @ - characters.');
  assertAcceptablePassword(input.password, username, deps.config);
  if (!(await deps.store.setupTokens.consume(hashToken(input.token), deps.clock.now()))) throw invalid;
  if ((await deps.store.users.count()) > 0) throw invalid;
  const user = await addUser(deps, { username: input.username, password: input.password, isAdmin: true }, ctx);
  await recordEvent(deps, { type: 'setup.completed', outcome: 'success', userId: user.id }, ctx);
  return issueSession(deps, user, 'enrollment', [{ method: 'pwd', at: deps.clock.now() }], ctx);
}
