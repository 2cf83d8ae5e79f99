import { newUserId } from '../core/ids.js';
import { normalizeUsername } from '../core/identity/username.js';
import type { User } from '../store/store.js';
import { recordEvent } from './audit.js';
import type { AuthDeps, RequestContext } from './deps.js';
import { AppError } from './errors.js';
import { assertAcceptablePassword } from './password-change.js';
import { revokeOtherSessions } from './sessions.js';

/** User administration shared by the CLI and the setup flow. */
export async function addUser(
  deps: AuthDeps,
  input: { username: string; password: string; isAdmin: boolean; displayName?: string; email?: string },
  ctx: RequestContext | null,
): Promise<User> {
  const username = normalizeUsername(input.username);
  if (username === null) {
    throw new AppError('bad_request', 'A username is 1 to 64 letters, digits or . _ @ - characters.');
  }
  assertAcceptablePassword(input.password, username, deps.config);
  const now = deps.clock.now();
  const user: User = {
    id: newUserId(deps.random),
    username,
    displayName: input.displayName ?? username,
    email: input.email ?? null,
    passwordHash: await deps.hasher.hash(input.password),
    isAdmin: input.isAdmin,
    disabled: false,
    factorFailures: 0,
    createdAt: now,
    updatedAt: now,
  };
  await deps.store.users.create(user);
  await recordEvent(deps, { type: 'user.created', outcome: 'success', userId: user.id, detail: { admin: user.isAdmin } }, ctx);
  return user;
}

export async function requireUser(deps: AuthDeps, username: string): Promise<User> {
  const normalized = normalizeUsername(username);
  const user = normalized === null ? undefined : await deps.store.users.findByUsername(normalized);
  if (!user) throw new AppError('not_found', `No user named "${username}".`);
  return user;
}

/** Disabling a user ends all their sessions at once; enabling lets them sign in again. */
export async function setUserDisabled(
  deps: AuthDeps,
  user: User,
  disabled: boolean,
  ctx: RequestContext | null,
): Promise<{ endedSessions: number }> {
  await deps.store.users.setDisabled(user.id, disabled, deps.clock.now());
  await recordEvent(deps, { type: disabled ? 'user.disabled' : 'user.enabled', outcome: 'success', userId: user.id }, ctx);
  const endedSessions = disabled ? await revokeOtherSessions(deps, user, null, 'user_disabled', ctx) : 0;
  return { endedSessions };
}

/**
 * Removes the user's TOTP factor, recovery codes and passkeys (lost phone); their next sign-in must enroll
 * again. Their sessions end, since they were proven with the removed factor.
 */
export async function resetFactors(deps: AuthDeps, user: User, ctx: RequestContext | null): Promise<{ endedSessions: number }> {
  await deps.store.factors.removeAll(user.id);
  await deps.store.users.resetFactorFailures(user.id);
  await recordEvent(deps, { type: 'factor.reset', outcome: 'success', userId: user.id }, ctx);
  return { endedSessions: await revokeOtherSessions(deps, user, null, 'factors_reset', ctx) };
}
