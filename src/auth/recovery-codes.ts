import { generateRecoveryCodes, hashRecoveryCode, normalizeRecoveryCode } from '../core/factors/recovery-codes.js';
import type { Session } from '../core/session/session.js';
import type { User } from '../store/store.js';
import { recordEvent } from './audit.js';
import type { AuthDeps, RequestContext } from './deps.js';
import { AppError } from './errors.js';
import { assertRecentAuthentication } from './sensitive-actions.js';
import { revokeOtherSessions } from './sessions.js';

/** Fresh codes: the plain ones go to the user once, only their keyed hashes are kept. */
export function newRecoveryCodes(deps: AuthDeps): { plain: string[]; hashes: string[] } {
  const plain = generateRecoveryCodes(deps.random);
  return { plain, hashes: plain.map((code) => hashRecoveryCode(normalizeRecoveryCode(code)!, deps.recoveryPepper)) };
}

/**
 * Replaces the whole set; the old codes stop working at once. Needs a two-factor session. With
 * `endOtherSessions` the user's other sessions end too (ASVS 5.0 V7.4.3: the choice after a factor change).
 */
export async function regenerateRecoveryCodes(
  deps: AuthDeps,
  user: User,
  session: Session,
  ctx: RequestContext,
  options: { endOtherSessions?: boolean } = {},
): Promise<{ codes: string[]; endedSessions: number }> {
  if (session.aal < 2) throw new AppError('forbidden', 'Regenerating recovery codes needs a session signed in with two factors.');
  await assertRecentAuthentication(deps, user, session);
  // Recovery codes back up a factor: an authenticator app or a passkey (a passkey-only account needs them most).
  const hasFactor =
    (await deps.store.factors.findConfirmedTotp(user.id)) !== undefined || (await deps.store.webauthn.countCredentials(user.id)) > 0;
  if (!hasFactor) throw new AppError('conflict', 'Set up an authenticator app or a passkey before generating recovery codes.');
  const codes = newRecoveryCodes(deps);
  await deps.store.factors.replaceRecoveryCodes(user.id, codes.hashes, deps.clock.now());
  await recordEvent(deps, { type: 'factor.recovery_codes.regenerated', outcome: 'success', userId: user.id, sessionId: session.id }, ctx);
  const endedSessions = options.endOtherSessions ? await revokeOtherSessions(deps, user, session, 'factor_changed', ctx) : 0;
  return { codes: codes.plain, endedSessions };
}
