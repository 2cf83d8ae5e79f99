import type { Config } from '../config.js';
import { checkNewPassword, contextWords } from '../core/factors/password-policy.js';
import type { Session } from '../core/session/session.js';
import type { User } from '../store/store.js';
import { recordEvent } from './audit.js';
import type { AuthDeps, RequestContext } from './deps.js';
import { AppError } from './errors.js';
import { assertRecentAuthentication, hasSecondFactor } from './sensitive-actions.js';
import { revokeOtherSessions } from './sessions.js';

/** The context-specific words of this installation (core/factors/password-policy.ts). */
export function serviceWords(config: Config): string[] {
  return contextWords({ names: [config.totp.issuer, config.webauthn.rpName], host: config.publicUrl.hostname });
}

/** Refuses a new password that the policy (length, blocklist, username, service name) rejects. */
export function assertAcceptablePassword(password: string, username: string, config: Config): void {
  const check = checkNewPassword(password, { username, contextWords: serviceWords(config) });
  if (!check.ok) throw new AppError('password_rejected', check.message, { detail: { reason: check.code } });
}

/** Changing the password needs the current one; other sessions end unless the user keeps them. */
export async function changePassword(
  deps: AuthDeps,
  user: User,
  session: Session,
  input: { currentPassword: string; newPassword: string; endOtherSessions: boolean },
  ctx: RequestContext,
): Promise<{ endedSessions: number }> {
  if (session.kind !== 'full') throw new AppError('enrollment_only', 'Finish setting up your second factor first.');
  // ASVS 5.0 V7.5: with two factors the second must be recent (and a one-factor session of such an
  // account steps up first); a one-factor account's re-typed current password, checked next, is its
  // re-authentication.
  if (session.aal >= 2 || (await hasSecondFactor(deps, user))) await assertRecentAuthentication(deps, user, session);
  if (!(await deps.hasher.verify(user.passwordHash, input.currentPassword))) {
    await recordEvent(
      deps,
      { type: 'password.changed', outcome: 'failure', userId: user.id, sessionId: session.id, reason: 'wrong_current_password' },
      ctx,
    );
    throw new AppError('invalid_credentials', 'The current password is not correct.');
  }
  assertAcceptablePassword(input.newPassword, user.username, deps.config);
  await deps.store.users.setPasswordHash(user.id, await deps.hasher.hash(input.newPassword), deps.clock.now());
  await recordEvent(deps, { type: 'password.changed', outcome: 'success', userId: user.id, sessionId: session.id }, ctx);
  const endedSessions = input.endOtherSessions ? await revokeOtherSessions(deps, user, session, 'password_changed', ctx) : 0;
  return { endedSessions };
}
