import QRCode from 'qrcode';
import { DEFAULT_TOTP_PARAMS, encodeBase32, generateTotpSecret, otpauthUri, verifyTotp } from '../core/factors/totp.js';
import { newRecordId } from '../core/ids.js';
import type { Session } from '../core/session/session.js';
import type { TotpFactor, User } from '../store/store.js';
import { recordEvent } from './audit.js';
import type { AuthDeps, RequestContext } from './deps.js';
import { AppError } from './errors.js';
import { mustUsePasskey, passkeyEnrollmentOnly } from './phishing-resistant.js';
import { newRecoveryCodes } from './recovery-codes.js';
import { assertRecentAuthentication } from './sensitive-actions.js';
import { openTotpSecret, totpParamsOf } from './second-factor.js';
import { issueSession, revokeOtherSessions, revokeSession, storedOrigin, type IssuedSession } from './sessions.js';

export interface TotpEnrollment {
  /** Base32, as typed into an authenticator by hand. */
  secret: string;
  otpauthUri: string;
  qrSvg: string;
}

/**
 * Replacing a confirmed factor is a sensitive action: it needs a two-factor session. A session from
 * a password alone (enrollment) may only add the first factor. Adding or replacing a factor from a
 * full session needs a recent factor too (session.sensitive_max_age, ASVS 5.0 V7.5.1); the
 * restricted enrollment session is short-lived and exists for this alone.
 */
async function assertMayEnroll(deps: AuthDeps, user: User, session: Session, hasConfirmed: boolean): Promise<void> {
  // webauthn.require_for: the restricted session of such a user exists to register a passkey.
  if (session.kind === 'enrollment' && mustUsePasskey(deps, user)) throw passkeyEnrollmentOnly();
  if (hasConfirmed && session.aal < 2)
    throw new AppError('forbidden', 'Replacing an authenticator needs a session signed in with two factors.');
  if (session.kind === 'full') await assertRecentAuthentication(deps, user, session);
}

/** Starts (or shows again) an unconfirmed TOTP secret for the user. */
export async function startTotpEnrollment(deps: AuthDeps, user: User, session: Session, ctx: RequestContext): Promise<TotpEnrollment> {
  await assertMayEnroll(deps, user, session, (await deps.store.factors.findConfirmedTotp(user.id)) !== undefined);
  let factor = await deps.store.factors.findPendingTotp(user.id);
  if (!factor) {
    const id = newRecordId('totp', deps.random);
    factor = {
      id,
      userId: user.id,
      secretSealed: deps.secretBox.seal(generateTotpSecret(deps.random), id),
      ...DEFAULT_TOTP_PARAMS,
      confirmedAt: null,
      lastUsedStep: null,
      createdAt: deps.clock.now(),
    } satisfies TotpFactor;
    await deps.store.factors.savePendingTotp(factor);
    await recordEvent(deps, { type: 'factor.totp.enrollment_started', outcome: 'info', userId: user.id, sessionId: session.id }, ctx);
  }
  const secret = openTotpSecret(deps, factor);
  const uri = otpauthUri({ issuer: deps.config.totp.issuer, account: user.username, secret, params: totpParamsOf(factor) });
  return {
    secret: encodeBase32(secret),
    otpauthUri: uri,
    qrSvg: await QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }),
  };
}

export interface TotpConfirmation {
  recoveryCodes: string[];
  /** A new full session replacing the one used to enroll (a new id at every change of assurance). */
  issued: IssuedSession;
  endedSessions: number;
}

/**
 * Confirms the pending secret with a code from the authenticator, which proves the user holds it.
 * The user then gets fresh recovery codes and a new two-factor session; other sessions end unless
 * the user chose to keep them.
 */
export async function confirmTotpEnrollment(
  deps: AuthDeps,
  user: User,
  session: Session,
  input: { code: string; endOtherSessions: boolean },
  ctx: RequestContext,
): Promise<TotpConfirmation> {
  await assertMayEnroll(deps, user, session, (await deps.store.factors.findConfirmedTotp(user.id)) !== undefined);
  const factor = await deps.store.factors.findPendingTotp(user.id);
  if (!factor) throw new AppError('no_pending_enrollment', 'Start the authenticator set-up first.');
  const now = deps.clock.now();
  const check = verifyTotp({
    secret: openTotpSecret(deps, factor),
    code: input.code,
    nowMs: now,
    params: totpParamsOf(factor),
    window: deps.config.totp.window,
    lastUsedStep: null,
  });
  if (!check.ok) {
    await recordEvent(
      deps,
      { type: 'factor.totp.enrolled', outcome: 'failure', userId: user.id, sessionId: session.id, reason: check.reason },
      ctx,
    );
    throw new AppError('invalid_code', 'That code does not match. Check the time on your device and try the current code.');
  }
  const codes = newRecoveryCodes(deps);
  if (!(await deps.store.factors.confirmTotp(factor.id, user.id, check.step, codes.hashes, now))) {
    throw new AppError('no_pending_enrollment', 'Start the authenticator set-up first.');
  }
  await recordEvent(deps, { type: 'factor.totp.enrolled', outcome: 'success', userId: user.id, sessionId: session.id }, ctx);

  const amr = [...session.amr.filter((use) => use.method === 'pwd'), { method: 'otp' as const, at: now }];
  const issued = await issueSession(deps, user, 'full', amr, ctx, 'cookie', undefined, await storedOrigin(deps, session));
  await revokeSession(deps, session, 'replaced_after_enrollment', ctx);
  const endedSessions = input.endOtherSessions ? await revokeOtherSessions(deps, user, issued.session, 'factor_changed', ctx) : 0;
  return { recoveryCodes: codes.plain, issued, endedSessions };
}
