import UAParser from 'ua-parser-js';
import { GeoIp } from '../context/geoip.js';
import { plainAddress } from '../context/trusted-proxies.js';
import {
  evaluateContinuity,
  type BrowserParts,
  type ContinuityLookups,
  type ContinuityVerdict,
  type DriftReason,
  type Place,
} from '../core/session/continuity.js';
import type { SessionId } from '../core/ids.js';
import type { Session } from '../core/session/session.js';
import type { User } from '../store/store.js';
import { recordEvent } from './audit.js';
import type { AuthDeps, RequestContext } from './deps.js';
import { AppError } from './errors.js';
import { stepUpMethodsOf } from './sensitive-actions.js';
import { revokeSession } from './sessions.js';

/** What continuous evaluation decided for one request (docs/continuous-evaluation.md). */
export type ContinuityOutcome =
  { kind: 'continue' } | { kind: 'step_up'; reasons: DriftReason[] } | { kind: 'revoked'; reasons: DriftReason[] };

const CONTINUE: ContinuityOutcome = Object.freeze({ kind: 'continue' });

/** The request as continuous evaluation sees it; `deviceHash` only where the portal's device cookie can arrive. */
export interface ContinuityRequest {
  ctx: RequestContext;
  deviceHash?: () => string | null;
}

/** User agents parsed once each: a drifted session repeats the same pair on every request. */
const MAX_PARSED = 1000;
const parsed = new Map<string, BrowserParts>();
function browserOf(userAgent: string): BrowserParts {
  let parts = parsed.get(userAgent);
  if (!parts) {
    const ua = new UAParser(userAgent).getResult();
    parts = { browserFamily: ua.browser.name ?? '', browserVersion: ua.browser.version ?? '', osFamily: ua.os.name ?? '' };
    if (parsed.size >= MAX_PARSED) parsed.delete(parsed.keys().next().value!);
    parsed.set(userAgent, parts);
  }
  return parts;
}

const NO_GEO = GeoIp.none();
async function lookupsFor(deps: AuthDeps): Promise<ContinuityLookups> {
  // The risk service opened the geo databases when the server started; awaiting it again is a resolved promise.
  const geo = deps.risk ? await deps.risk.ready() : NO_GEO;
  return {
    place: (ip: string): Place => geo.lookup(plainAddress(ip)),
    browser: browserOf,
  };
}

/**
 * Drifts already recorded, per session id in this process: a low band is recorded once per new
 * value per session, not on every request from it. By id, not by object: the session cache hands
 * out a new Session object on every lookup (session-table.ts). The sessions least recently
 * recorded are forgotten first, past MAX_SESSIONS_RECORDED (one may then be recorded once more).
 */
const MAX_SESSIONS_RECORDED = 10_000;
const recorded = new Map<SessionId, Set<string>>();
function firstTime(session: Session, key: string): boolean {
  let seen = recorded.get(session.id);
  if (seen) recorded.delete(session.id);
  else if (recorded.size >= MAX_SESSIONS_RECORDED) recorded.delete(recorded.keys().next().value!);
  recorded.set(session.id, (seen ??= new Set()));
  if (seen.has(key)) return false;
  if (seen.size < 64) seen.add(key);
  return true;
}

/**
 * Compares the request with the session it presents. The common case (same address, same user
 * agent) is two string comparisons and returns without awaiting anything else. `allowStepUp`: the
 * request is itself a step-up, which a medium drift must not block.
 */
export function checkContinuity(
  deps: AuthDeps,
  session: Session,
  user: User,
  request: ContinuityRequest,
  options: { allowStepUp?: boolean } = {},
): ContinuityOutcome | Promise<ContinuityOutcome> {
  const settings = deps.config.session.continuity;
  if (!settings.enabled) return CONTINUE;
  const { ctx } = request;
  if (ctx.ip === session.ip && ctx.userAgent === session.userAgent) return CONTINUE;
  return drifted(deps, session, user, request, options);
}

async function drifted(
  deps: AuthDeps,
  session: Session,
  user: User,
  request: ContinuityRequest,
  options: { allowStepUp?: boolean },
): Promise<ContinuityOutcome> {
  const settings = deps.config.session.continuity;
  const { ctx } = request;
  const verdict: ContinuityVerdict = evaluateContinuity(
    session,
    { ip: ctx.ip, userAgent: ctx.userAgent, ...(request.deviceHash ? { deviceHash: request.deviceHash } : {}) },
    await lookupsFor(deps),
    deps.clock.now(),
  );
  const action =
    verdict.band === 'high'
      ? settings.onHigh
      : verdict.band === 'medium'
        ? settings.onMedium
        : verdict.band === 'low'
          ? 'record'
          : 'continue';
  const detail = { band: verdict.band, reasons: verdict.reasons, session_ip: session.ip, action };
  if (action === 'revoke') {
    await revokeSession(deps, session, 'hijack_suspected', ctx);
    await recordEvent(
      deps,
      {
        type: 'session.hijack_suspected',
        outcome: 'failure',
        userId: user.id,
        sessionId: session.id,
        reason: verdict.reasons.join(','),
        detail,
      },
      ctx,
    );
    notify(deps, user, ctx, verdict.reasons);
    return { kind: 'revoked', reasons: verdict.reasons };
  }
  if (action === 'continue') return CONTINUE;
  // Recorded once per new address or browser string per session (and per band, so a later step-up demand is still recorded).
  if (firstTime(session, `${verdict.band}|${ctx.ip}|${ctx.userAgent}`)) {
    await recordEvent(
      deps,
      {
        type: verdict.band === 'high' ? 'session.hijack_suspected' : 'session.context_changed',
        outcome: action === 'step_up' ? 'failure' : 'success',
        userId: user.id,
        sessionId: session.id,
        reason: verdict.reasons.join(','),
        detail,
      },
      ctx,
    );
  }
  if (action === 'step_up' && !options.allowStepUp) return { kind: 'step_up', reasons: verdict.reasons };
  return CONTINUE;
}

const REASON_TEXT: Partial<Record<DriftReason, string>> = {
  browser_family_changed: 'a different browser',
  os_family_changed: 'a different operating system',
  impossible_travel: 'a place too far away to have travelled to since',
  device_missing: 'a browser without this session’s device cookie',
  device_changed: 'a different browser’s device cookie',
  country_changed: 'another country',
  asn_changed: 'another network',
};

/** The security email (when SMTP is configured and the user has an address). */
function notify(deps: AuthDeps, user: User, ctx: RequestContext, reasons: DriftReason[]): void {
  if (!deps.risk || !user.email) return;
  const why = reasons.map((r) => REASON_TEXT[r]).filter(Boolean);
  deps.risk.mail({
    to: user.email,
    userId: user.id,
    kind: 'session.hijack_suspected',
    subject: 'A session on your account was ended',
    text: [
      `A signed-in session of your twofold account "${user.username}" was used from ${why.join(', ') || 'a different context'} (IP ${ctx.ip}), so it was ended.`,
      '',
      'If this was you, sign in again. If not, change your password and review your other sessions.',
    ].join('\n'),
  });
}

/** The API's answer: 401 unauthenticated (revoked) or 401 step_up_required, with the reasons. */
export async function continuityRefusal(
  deps: AuthDeps,
  user: User,
  outcome: Exclude<ContinuityOutcome, { kind: 'continue' }>,
): Promise<AppError> {
  if (outcome.kind === 'revoked') {
    return new AppError('unauthenticated', 'Sign in again: this session was ended because it was used from a different browser or place.', {
      detail: { reason: 'hijack_suspected', reasons: outcome.reasons },
    });
  }
  return new AppError('step_up_required', 'This session is being used from a new network or country: prove a second factor again.', {
    detail: {
      step_up: {
        reason: 'context_changed',
        reasons: outcome.reasons,
        methods: await stepUpMethodsOf(deps, user),
        max_age_s: null,
        endpoint: '/api/v1/session/step-up',
      },
    },
  });
}
