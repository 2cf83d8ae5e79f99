import type { Session } from '../core/session/session.js';
import type { User, WebAuthnCredential } from '../store/store.js';
import { recordEvent } from './audit.js';
import type { AuthDeps, RequestContext } from './deps.js';
import { AppError } from './errors.js';
import { assertRecentAuthentication } from './sensitive-actions.js';
import { newRecoveryCodes } from './recovery-codes.js';
import { issueSession, revokeSession, storedOrigin, type IssuedSession } from './sessions.js';

/**
 * A passkey as the second factor a user enrolls: from the restricted session a sign-in gives a user
 * who must set one up (login.require_second_factor, or webauthn.require_for without a passkey).
 * Registration itself is src/auth/webauthn.ts; this is what follows it, as TOTP confirmation does:
 * fresh recovery codes and a full two-factor session replacing the restricted one.
 */

/**
 * A session from the password alone may add the first factor only. A user who already has one came
 * through it (webauthn.require_for, then the session is AAL2); anything else is refused.
 */
export async function assertMayRegisterInEnrollment(deps: AuthDeps, user: User, session: Session): Promise<void> {
  if (session.kind !== 'enrollment' || session.aal >= 2) return;
  const hasFactor =
    (await deps.store.factors.findConfirmedTotp(user.id)) !== undefined || (await deps.store.webauthn.countCredentials(user.id)) > 0;
  if (hasFactor) throw new AppError('forbidden', 'Adding a passkey needs a session signed in with two factors.');
}

/**
 * Before a passkey is added: the enrollment rule above, and from a full session a recently proven
 * factor at two-factor strength (ASVS 5.0 V7.5.1: changing the MFA configuration re-authenticates).
 * Checked when the challenge is issued; the answer must use that challenge, within webauthn.timeout.
 */
export async function assertMayRegisterPasskey(deps: AuthDeps, user: User, session: Session): Promise<void> {
  await assertMayRegisterInEnrollment(deps, user, session);
  if (session.kind === 'full') await assertRecentAuthentication(deps, user, session);
}

export interface PasskeyEnrollment {
  recoveryCodes: string[];
  issued: IssuedSession;
}

/** After a passkey was registered from an enrollment session: recovery codes and a full session at AAL2. */
export async function finishPasskeyEnrollment(
  deps: AuthDeps,
  user: User,
  session: Session,
  credential: WebAuthnCredential,
  ctx: RequestContext,
): Promise<PasskeyEnrollment> {
  const now = deps.clock.now();
  const codes = newRecoveryCodes(deps);
  await deps.store.factors.replaceRecoveryCodes(user.id, codes.hashes, now);
  await recordEvent(
    deps,
    {
      type: 'factor.webauthn.enrolled',
      outcome: 'success',
      userId: user.id,
      sessionId: session.id,
      detail: { credential: credential.id.slice(0, 16) },
    },
    ctx,
  );
  // The registration proved the key is held: it counts as the factor just used (RFC 8176 "hwk").
  const amr = [...session.amr.filter((use) => use.method !== 'hwk'), { method: 'hwk' as const, at: now }];
  // The full session keeps where the sign-in came from (admin filters, continuous evaluation), as TOTP enrollment does.
  const issued = await issueSession(deps, user, 'full', amr, ctx, 'cookie', undefined, await storedOrigin(deps, session));
  await revokeSession(deps, session, 'replaced_after_enrollment', ctx);
  return { recoveryCodes: codes.plain, issued };
}
