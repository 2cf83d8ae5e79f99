import { timingSafeEqual } from 'node:crypto';
import { deviceHash, newDeviceCookie, secretHash } from '../../context/device-cookie.js';
import { signInContext } from '../../context/sign-in-context.js';
import { newRecordId } from '../../core/ids.js';
import { Level, featureKeys, type LoginContext } from '../../core/risk/context.js';
import { distanceKm } from '../../core/risk/geo.js';
import type { RiskBand } from '../../core/risk/policy.js';
import type { PasswordStepOutcome } from '../../core/policy/second-factor-policy.js';
import type { SessionOrigin } from '../../core/session/session.js';
import { describeUserAgent } from '../../http/user-agent.js';
import type { TrustedDevice, User } from '../../store/store.js';
import { recordEvent } from '../audit.js';
import type { AuthDeps, RequestContext } from '../deps.js';
import { AppError } from '../errors.js';
import { cloneSuspectedRecently } from './clone-signal.js';
import type { PendingRisk } from './risk-service.js';

/** The risk verdict on a sign-in whose password was right: what happens next and how long its session may live. */
export interface RiskStep {
  outcome: PasswordStepOutcome;
  band?: RiskBand;
  login?: LoginContext;
  trustedDevice?: TrustedDevice;
  /** What the session opened by this sign-in records of it (admin console filters). */
  origin?: SessionOrigin;
}

/** The sign-in's place and verdict as its session keeps them; '' and '-' (unknown) become null. */
export function sessionOrigin(login: LoginContext, assessment: { band: RiskBand; score: number }): SessionOrigin {
  return {
    country: login.country && login.country !== '-' ? login.country : null,
    asn: login.asn || null,
    riskBand: assessment.band,
    riskScore: Math.round(assessment.score * 1000) / 1000,
  };
}

/** A denied sign-in answers exactly like a wrong password: the attacker learns nothing; the user gets an email. */
const denied = () => new AppError('invalid_credentials', 'Invalid username or password.');

const sameHash = (a: string, b: string): boolean => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

const place = (login: LoginContext): string => [login.city, login.country].filter(Boolean).join(', ');

/**
 * The decision table of issue 4, applied after a correct password:
 * low risk on a remembered browser → the second factor is skipped (unless configured always);
 * medium → the policy's factors (a second factor whenever the user has one);
 * high → a passkey where the user has one, else denied;
 * very high → denied, recorded and the user emailed. Never weaker than the policy: only a
 * remembered browser at low risk may skip a factor, and never when remember_device.skip_second_factor is off.
 */
export async function assessSignIn(
  deps: AuthDeps,
  user: User,
  ctx: RequestContext,
  outcome: PasswordStepOutcome,
  factors: { passkeys: number },
): Promise<RiskStep> {
  const risk = deps.risk;
  if (!risk) return { outcome };
  const now = deps.clock.now();
  const login = signInContext(user.id, ctx, await risk.ready(), now);
  const trustedDevice = await rememberedDevice(deps, user, ctx);
  // A browser whose cookie names a remembered device but carries an old secret is a copy: not this device.
  if (trustedDevice === 'stale') delete login.deviceId;
  const trusted = typeof trustedDevice === 'object' ? trustedDevice : undefined;
  // A passkey of this user answered with a counter that went backwards: at least high (webauthn.clone_risk_for).
  const cloneSuspected = await cloneSuspectedRecently(deps, user.id);
  const assessment = risk.engine.assess(login, { trustedDevice: trusted !== undefined, cloneSuspected });
  // Too little history says nothing yet (the model has no baseline): the policy alone decides.
  const enforced = risk.engine.history.user(user.id).logins >= deps.config.riskPolicy.minHistory;
  if (!enforced && !cloneSuspected) assessment.decision = 'second_factor';

  let next: PasswordStepOutcome = outcome;
  let refused = false;
  switch (assessment.decision) {
    case 'deny':
      refused = true;
      break;
    case 'phishing_resistant_or_deny':
      if (factors.passkeys > 0) next = { state: 'second_factor_required', methods: ['webauthn'] };
      // Raised by a clone report alone, and the user removed the copied passkey: the policy's factors, not a lock-out.
      else if (assessment.raisedFrom !== undefined && assessment.raisedFrom !== 'very_high') break;
      else refused = true;
      break;
    case 'second_factor':
      break;
    case 'allow':
      if (trusted && deps.config.rememberDevice?.skipSecondFactor && outcome.state === 'second_factor_required')
        next = { state: 'authenticated' };
      break;
  }
  await recordEvent(
    deps,
    {
      type: 'risk.decision',
      outcome: refused ? 'failure' : 'success',
      userId: user.id,
      reason: refused ? 'denied' : null,
      detail: {
        score: Math.round(assessment.score * 1000) / 1000,
        band: assessment.band,
        decision: assessment.decision,
        reasons: assessment.reasons,
        model: deps.config.risk.model,
        trusted_device: trusted !== undefined,
        enforced,
        next: refused ? 'denied' : next.state,
        ...(login.country ? { country: login.country } : {}),
      },
    },
    ctx,
  );
  if (refused) {
    risk.engine.recordFailure(login);
    if (user.email) {
      risk.mail({
        to: user.email,
        userId: user.id,
        kind: 'sign_in_blocked',
        subject: 'A sign-in to your account was blocked',
        text: [
          `Someone signed in to your twofold account "${user.username}" with your password, and it looked too unusual to allow:`,
          '',
          ...signInLines(login, assessment.reasons),
          '',
          'If this was not you, change your password now: someone knows it.',
        ].join('\n'),
      });
    }
    throw denied();
  }
  // Below min_history the session keeps the configured lifetimes too.
  return {
    outcome: next,
    ...(enforced ? { band: assessment.band } : {}),
    login,
    ...(trusted ? { trustedDevice: trusted } : {}),
    origin: sessionOrigin(login, assessment),
  };
}

/** The user's live remembered-device record for this browser; 'stale' when the cookie's secret is an old one. */
async function rememberedDevice(deps: AuthDeps, user: User, ctx: RequestContext): Promise<TrustedDevice | 'stale' | undefined> {
  if (!ctx.device || !deps.config.rememberDevice) return undefined;
  const record = await deps.store.trustedDevices.findActive(user.id, deviceHash(ctx.device), deps.clock.now());
  if (!record) return undefined;
  return sameHash(record.secretHash, secretHash(ctx.device.secret)) ? record : 'stale';
}

/** Keeps the password step's verdict for the second step (the pending login's id is the key). */
export function holdForSecondFactor(deps: AuthDeps, pendingId: string, step: RiskStep, expiresAt: number, ctx: RequestContext): void {
  if (!deps.risk || !step.login) return;
  const required = step.outcome.state === 'second_factor_required' && step.outcome.methods.join() === 'webauthn' ? 'webauthn' : 'any';
  deps.risk.rememberPending(pendingId, {
    login: step.login,
    band: step.band,
    decision: 'second_factor',
    required,
    expiresAt,
    ...(ctx.device ? { device: ctx.device } : {}),
    ...(step.origin ? { origin: step.origin } : {}),
  });
}

/**
 * The second step's view of the verdict: a sign-in judged high risk may only be finished with a
 * passkey. On another node (no verdict in memory) the sign-in is judged again here.
 */
export async function secondFactorRisk(
  deps: AuthDeps,
  pending: { id: string; userId: string; expiresAt: number },
  user: User,
  ctx: RequestContext,
  method: string,
): Promise<PendingRisk | undefined> {
  const risk = deps.risk;
  if (!risk) return undefined;
  let held = risk.takePending(pending.id);
  if (!held) {
    const login = signInContext(user.id, ctx, await risk.ready(), deps.clock.now());
    const cloneSuspected = await cloneSuspectedRecently(deps, user.id);
    const assessment = risk.engine.assess(login, { cloneSuspected });
    const enforced = risk.engine.history.user(user.id).logins >= deps.config.riskPolicy.minHistory;
    if (!enforced && !cloneSuspected) assessment.decision = 'second_factor';
    if (assessment.decision === 'deny') throw denied();
    held = {
      login,
      ...(enforced ? { band: assessment.band } : {}),
      decision: assessment.decision,
      required: assessment.decision === 'phishing_resistant_or_deny' ? 'webauthn' : 'any',
      expiresAt: pending.expiresAt,
      origin: sessionOrigin(login, assessment),
    };
    risk.rememberPending(pending.id, held);
  }
  // A browser that had no cookie got its id at the password step: the same id is handed out now.
  if (held.device?.isNew && ctx.device?.isNew) Object.assign(ctx.device, { id: held.device.id, secret: held.device.secret });
  if (held.required === 'webauthn' && method !== 'webauthn') {
    throw new AppError('method_not_available', 'This sign-in looks unusual: confirm it with your passkey.', {
      detail: { methods: ['webauthn'] },
    });
  }
  return held;
}

/** A failed password or code counts towards the account's and the address's failure velocity. */
export async function signInFailed(deps: AuthDeps, userKey: string, ctx: RequestContext): Promise<void> {
  const risk = deps.risk;
  if (!risk) return;
  risk.engine.recordFailure(signInContext(userKey, { ip: ctx.ip, userAgent: ctx.userAgent }, await risk.ready(), deps.clock.now()));
}

/**
 * After a complete sign-in: email the user about a new device or place, learn the sign-in (engine
 * and store), rotate a remembered browser's secret, and remember this browser when asked.
 */
export async function signInSucceeded(
  deps: AuthDeps,
  user: User,
  ctx: RequestContext,
  verdict: { login?: LoginContext; trustedDevice?: TrustedDevice; pendingId?: string },
  options: { rememberDevice?: boolean } = {},
): Promise<void> {
  const risk = deps.risk;
  if (!risk || !verdict.login) return;
  if (verdict.pendingId) risk.forgetPending(verdict.pendingId);
  const login = verdict.login;
  const now = deps.clock.now();
  const novelty = whatIsNew(deps, login);
  if (novelty.length && user.email) {
    risk.mail({
      to: user.email,
      userId: user.id,
      kind: 'new_sign_in',
      subject: `New sign-in to your account from ${novelty.join(' and ')}`,
      text: [
        `Your twofold account "${user.username}" was just signed in to from ${novelty.join(' and ')}:`,
        '',
        ...signInLines(login, []),
        '',
        'If this was you, there is nothing to do. If not, sign in, end that session on your account page and change your password.',
      ].join('\n'),
    });
  }
  risk.engine.recordSuccess(login);
  await deps.store.loginHistory.append(login, deps.config.risk.retention);

  const device = ctx.device;
  if (!device) return;
  // A browser's first complete sign-in hands it its device cookie; until then it was not recognisable anyway.
  if (device.isNew) device.send = true;
  if (!deps.config.rememberDevice) return;
  if (verdict.trustedDevice) {
    // Rotation: the remembered browser gets a new secret at each use; a copy of the old cookie no longer counts.
    const fresh = newDeviceCookie(deps.random).secret;
    const rotated = await deps.store.trustedDevices.rotateSecret(deviceHash(device), secretHash(device.secret), secretHash(fresh), now);
    if (rotated > 0) Object.assign(device, { secret: fresh, send: true });
  }
  if (options.rememberDevice && !verdict.trustedDevice) {
    // A fresh secret for the new memory, so nothing the cookie carried before counts as remembered.
    const fresh = newDeviceCookie(deps.random).secret;
    const existing = await deps.store.trustedDevices.findActive(user.id, deviceHash(device), now);
    if (existing) await deps.store.trustedDevices.revoke(user.id, existing.id, now);
    await deps.store.trustedDevices.rotateSecret(deviceHash(device), secretHash(device.secret), secretHash(fresh), now);
    Object.assign(device, { secret: fresh, send: true });
    const described = describeUserAgent(ctx.userAgent);
    const record: TrustedDevice = {
      id: newRecordId('dev', deps.random),
      userId: user.id,
      deviceHash: deviceHash(device),
      secretHash: secretHash(fresh),
      label: `${described.browser} on ${described.os}`,
      ip: login.ip,
      location: place(login),
      createdAt: now,
      lastUsedAt: now,
      expiresAt: now + deps.config.rememberDevice.lifetimeMs,
      revokedAt: null,
    };
    await deps.store.trustedDevices.create(record);
    await recordEvent(
      deps,
      { type: 'device.remembered', outcome: 'success', userId: user.id, detail: { device: record.id, expires_at: record.expiresAt } },
      ctx,
    );
  }
}

/** "a new device", "a new country (NO)", "a new city": what this user's history has not seen. Nothing for a first sign-in. */
function whatIsNew(deps: AuthDeps, login: LoginContext): string[] {
  const history = deps.risk!.engine.history.user(login.userId);
  if (history.logins === 0) return [];
  const keys = featureKeys(login);
  const news: string[] = [];
  const device = keys[Level.device];
  const knownBrowser = history.stat(keys[Level.ua]!) !== undefined;
  if (device ? history.stat(device) === undefined && !knownBrowser : !knownBrowser) news.push('a new device');
  if (login.country && history.stat(keys[Level.country]!) === undefined) news.push(`a new country (${login.country})`);
  else if (login.country && login.city && !history.stat(keys[Level.ip]!) && !seenCity(deps, login))
    news.push(`a new place (${place(login)})`);
  return news;
}

/** The history counts countries, not cities: a place is new when the last sign-in was over 50 km away. */
function seenCity(deps: AuthDeps, login: LoginContext): boolean {
  const latest = deps.risk!.engine.history.user(login.userId).latest();
  if (login.latitude === undefined || login.longitude === undefined || latest?.latitude === undefined || latest.longitude === undefined)
    return true;
  return distanceKm(latest.latitude, latest.longitude, login.latitude, login.longitude) < 50;
}

function signInLines(login: LoginContext, reasons: string[]): string[] {
  const when = new Date(login.at).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
  const browser = describeUserAgent(login.userAgent);
  return [
    `  When:    ${when}`,
    `  Where:   ${place(login) || 'unknown place'} (IP ${login.ip})`,
    `  Browser: ${browser.browser} on ${browser.os}`,
    ...(reasons.length ? [`  Why:     ${reasons.join('; ')}`] : []),
  ];
}
