import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { UserId } from '../core/ids.js';
import type { User } from '../store/store.js';
import { recordEvent } from './audit.js';
import type { AuthDeps, RequestContext } from './deps.js';
import { AppError } from './errors.js';
import { assertAcceptablePassword } from './password-change.js';
import { verifySecondFactor } from './second-factor.js';
import { hasSecondFactor } from './sensitive-actions.js';
import { revokeOtherSessions } from './sessions.js';

/**
 * A forgotten password (ASVS 5.0 V6.4.3). An operator who has checked who is asking issues a
 * one-time link (`twofold user reset-password NAME`); on its page a new password is accepted only
 * together with one of the account's second factors (an authenticator code or a recovery code), so
 * a reset never bypasses MFA. Then every session of the user ends.
 *
 * The link is a MAC over the user id, its expiry and a fingerprint of the current password hash.
 * It needs no table, and it stops working the moment the password changes (so it works once) or it
 * expires. Its key is derived from the recovery-code key, itself derived from the master key.
 */
export const RESET_LINK_LIFETIME_MS = 60 * 60_000;

const MAX_TOKEN_LENGTH = 512;

export type ResetCodeMethod = 'totp' | 'recovery_code';

function resetKey(deps: AuthDeps): Buffer {
  return createHmac('sha256', deps.recoveryPepper).update('twofold:password-reset-links').digest();
}

/** Changes whenever the password does; reveals nothing of the hash. */
const fingerprintOf = (passwordHash: string): string => createHash('sha256').update(passwordHash).digest('base64url').slice(0, 22);

const mac = (deps: AuthDeps, payload: string): Buffer => createHmac('sha256', resetKey(deps)).update(payload).digest();

export async function issuePasswordResetLink(
  deps: AuthDeps,
  user: User,
  ctx: RequestContext | null,
): Promise<{ url: string; expiresAt: number }> {
  const expiresAt = deps.clock.now() + RESET_LINK_LIFETIME_MS;
  const payload = Buffer.from(JSON.stringify({ u: user.id, e: expiresAt, f: fingerprintOf(user.passwordHash) })).toString('base64url');
  const token = `${payload}.${mac(deps, payload).toString('base64url')}`;
  await recordEvent(deps, { type: 'password.reset_link_issued', outcome: 'success', userId: user.id }, ctx);
  return { url: new URL(`/reset-password?token=${token}`, deps.config.publicUrl).toString(), expiresAt };
}

/** The user a reset link is for while it is valid (right MAC, not expired, password unchanged, user enabled); else undefined. */
export async function userOfResetLink(deps: AuthDeps, token: string | undefined): Promise<User | undefined> {
  if (!token || token.length > MAX_TOKEN_LENGTH) return undefined;
  const [payload, given, extra] = token.split('.');
  if (!payload || !given || extra !== undefined) return undefined;
  const expected = mac(deps, payload);
  const presented = Buffer.from(given, 'base64url');
  if (presented.length !== expected.length || !timingSafeEqual(presented, expected)) return undefined;
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const { u, e, f } = (claims ?? {}) as { u?: unknown; e?: unknown; f?: unknown };
  if (typeof u !== 'string' || typeof e !== 'number' || typeof f !== 'string' || deps.clock.now() >= e) return undefined;
  const user = await deps.store.users.findById(u as UserId);
  if (!user || user.disabled || fingerprintOf(user.passwordHash) !== f) return undefined;
  return user;
}

export const resetLinkInvalid = (): AppError =>
  new AppError(
    'reset_link_invalid',
    'This password reset link is not valid: it expired or was already used. Ask an administrator for a new one.',
  );

/** Sets a new password from a reset link and a second factor of the account; ends every session. */
export async function resetPassword(
  deps: AuthDeps,
  input: { token: string; newPassword: string; method?: ResetCodeMethod; code?: string },
  ctx: RequestContext,
): Promise<{ endedSessions: number }> {
  await deps.throttles.assertCodeAllowed(ctx.ip);
  const user = await userOfResetLink(deps, input.token);
  if (!user) throw resetLinkInvalid();
  // The new password first: a refused one must not spend the code that came with it.
  assertAcceptablePassword(input.newPassword, user.username, deps.config);
  if (await hasSecondFactor(deps, user)) {
    const { maxConsecutiveFactorFailures } = deps.config.login;
    const locked = new AppError('factor_locked', 'Too many failed codes for this account. An administrator must reset its second factor.');
    if (user.factorFailures >= maxConsecutiveFactorFailures) throw locked;
    if (!input.method || !input.code) throw new AppError('bad_request', 'Enter a code from your authenticator app, or a recovery code.');
    const check = await verifySecondFactor(deps, user, input.method, input.code);
    if (!check.ok) {
      // The same brakes as any code: the per-address cap and the account's consecutive-failure lock (NIST 800-63B §3.2.2).
      await deps.throttles.codeFailed(ctx.ip);
      const failures = await deps.store.users.addFactorFailure(user.id);
      await recordEvent(deps, { type: 'password.reset', outcome: 'failure', userId: user.id, reason: check.reason }, ctx);
      if (failures >= maxConsecutiveFactorFailures) throw locked;
      if (check.reason === 'not_enrolled') throw new AppError('method_not_available', 'That method is not set up for this account.');
      if (check.reason === 'replayed') throw new AppError('code_replayed', 'That code was already used. Wait for the next code.');
      throw new AppError('invalid_code', 'That code is not valid.');
    }
    await deps.store.users.resetFactorFailures(user.id);
  }
  await deps.store.users.setPasswordHash(user.id, await deps.hasher.hash(input.newPassword), deps.clock.now());
  await recordEvent(deps, { type: 'password.reset', outcome: 'success', userId: user.id }, ctx);
  return { endedSessions: await revokeOtherSessions(deps, user, null, 'password_reset', ctx) };
}
