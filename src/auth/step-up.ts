import type { FactorUse, Session } from '../core/session/session.js';
import type { SessionType, User } from '../store/store.js';
import { recordEvent } from './audit.js';
import type { AuthDeps, RequestContext } from './deps.js';
import { AppError } from './errors.js';
import { assertPlanAllows, passkeySignInPlan } from './phishing-resistant.js';
import { checkFactorAnswer, type FactorAnswer } from './second-factor.js';
import { passkeyError, type PasskeyRefusal } from './webauthn.js';
import { issueSession, revokeSession, storedOrigin, type IssuedSession } from './sessions.js';

/**
 * Step-up ("sudo mode"): a signed-in user proves a second factor again. The proof is recorded with
 * its time (what max_auth_age is judged by) in a new session with a new token, and the old one
 * ends: a re-authentication never keeps the old secret (OWASP session management).
 * NIST 800-63B allows re-authentication with one factor at AAL2, so the new session's lifetimes restart.
 */
export async function stepUp(
  deps: AuthDeps,
  user: User,
  session: Session,
  input: FactorAnswer,
  ctx: RequestContext,
  sessionType: SessionType = 'cookie',
): Promise<IssuedSession> {
  if (session.kind !== 'full') throw new AppError('enrollment_only', 'Finish setting up your second factor first.');
  // webauthn.require_for: the same methods as at sign-in (a passkey, or a recovery code as the way
  // back from a lost key; an app code only until a passkey exists), refused before it costs an attempt.
  assertPlanAllows(await passkeySignInPlan(deps, user), input.method);
  await deps.throttles.assertCodeAllowed(ctx.ip);
  const { maxConsecutiveFactorFailures } = deps.config.login;
  const lockedMessage = 'Too many failed codes for this account. An administrator must reset its second factor.';
  const fresh = await deps.store.users.findById(user.id);
  if (!fresh || fresh.factorFailures >= maxConsecutiveFactorFailures) throw new AppError('factor_locked', lockedMessage);
  // Counted before the check, as at sign-in (src/auth/sign-in.ts): concurrent guesses cannot outrun the lock.
  const failures = await deps.store.users.addFactorFailure(user.id);
  if (failures > maxConsecutiveFactorFailures) throw new AppError('factor_locked', lockedMessage);

  const check = await checkFactorAnswer(deps, user, input, { purpose: 'step_up', boundTo: session.id }, ctx);
  if (!check.ok) {
    await deps.throttles.codeFailed(ctx.ip);
    await recordEvent(
      deps,
      { type: 'session.step_up', outcome: 'failure', userId: user.id, sessionId: session.id, reason: check.reason },
      ctx,
    );
    if (check.reason === 'not_enrolled') throw new AppError('method_not_available', 'That method is not set up for this account.');
    if (failures >= maxConsecutiveFactorFailures) throw new AppError('factor_locked', lockedMessage);
    if (input.method === 'webauthn') throw passkeyError(check.reason as PasskeyRefusal);
    if (check.reason === 'replayed') throw new AppError('code_replayed', 'That code was already used. Wait for the next code.');
    throw new AppError('invalid_code', 'That code is not valid.');
  }
  await deps.store.users.resetFactorFailures(user.id);
  const now = deps.clock.now();
  const amr: FactorUse[] = [...session.amr.filter((use) => use.method !== check.method), { method: check.method, at: now }];
  // The rotated session continues the same sign-in: it keeps its origin (country, network, risk).
  // It stays bound to the same browser's device cookie, and adopts the request's address and browser.
  const bound = session.deviceHash === undefined ? ctx : { ...ctx, boundDeviceHash: session.deviceHash };
  const issued = await issueSession(deps, user, 'full', amr, bound, sessionType, undefined, await storedOrigin(deps, session));
  await revokeSession(deps, session, 'rotated_step_up', ctx);
  await recordEvent(
    deps,
    { type: 'session.step_up', outcome: 'success', userId: user.id, sessionId: issued.session.id, detail: { method: input.method } },
    ctx,
  );
  return issued;
}
