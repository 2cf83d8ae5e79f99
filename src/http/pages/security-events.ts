import type { AuditEvent } from '../../store/store.js';
import { describeUserAgent } from '../user-agent.js';

/** Why a session ended, in the words of the person it happened to. */
const ENDED_BECAUSE: Record<string, string> = {
  revoked_by_user: 'signed out by you',
  logout: 'signed out',
  password_changed: 'after your password changed',
  factor_changed: 'after your authenticator changed',
  replaced_after_enrollment: 'replaced by a two-factor session',
  rotated_step_up: 'replaced after you confirmed your second factor again',
  user_disabled: 'account disabled',
  factors_reset: 'second factor reset by an administrator',
};

const count = (detail: AuditEvent['detail']): number | undefined => (typeof detail?.count === 'number' ? detail.count : undefined);

/** One line per audit event for the account page: plain words, never the raw detail. */
export function describeEvent(event: AuditEvent): string {
  const failed = event.outcome === 'failure';
  const method = event.detail?.method;
  switch (event.type) {
    case 'login.password':
      if (!failed) return 'Password accepted';
      return event.reason === 'user_disabled' ? 'Sign-in refused: account disabled' : 'Sign-in attempt with a wrong password';
    case 'login.second_factor':
      if (failed)
        return event.reason === 'replayed' ? 'Refused an authenticator code that was already used' : 'Sign-in attempt with a wrong code';
      if (method === 'webauthn') return 'Signed in with a passkey';
      return method === 'recovery_code' ? 'Signed in with a recovery code' : 'Signed in with an authenticator code';
    case 'session.created':
      return 'New session started';
    case 'session.renewed':
      return 'Session renewed';
    case 'session.step_up':
      if (failed)
        return event.reason === 'replayed' ? 'Refused a reused code while confirming it was you' : 'Wrong code while confirming it was you';
      return method === 'recovery_code' ? 'Confirmed it was you with a recovery code' : 'Confirmed it was you with an authenticator code';
    case 'session.logout':
      return 'Signed out';
    case 'session.revoked': {
      const n = count(event.detail);
      const because = event.reason ? ENDED_BECAUSE[event.reason] : undefined;
      const what = n !== undefined ? `${n} ${n === 1 ? 'session' : 'sessions'} ended` : 'Session ended';
      return because ? `${what}: ${because}` : what;
    }
    case 'factor.totp.enrollment_started':
      return 'Authenticator set-up started';
    case 'factor.totp.enrolled':
      return failed ? 'Wrong code while setting up an authenticator' : 'Authenticator app set up';
    case 'factor.recovery_codes.regenerated':
      return 'New recovery codes generated (the old ones stopped working)';
    case 'factor.webauthn.registered':
      return 'Passkey added';
    case 'factor.webauthn.renamed':
      return 'Passkey renamed';
    case 'factor.webauthn.removed':
      return event.reason === 'removed_by_admin' ? 'Passkey removed by an administrator' : 'Passkey removed';
    case 'webauthn.clone_suspected':
      return 'Refused a passkey that looks cloned (its signature counter went backwards)';
    case 'factor.reset':
      return 'Second factor reset by an administrator';
    case 'password.changed':
      return failed ? 'Password change refused: wrong current password' : 'Password changed';
    case 'user.created':
      return 'Account created';
    case 'user.disabled':
      return 'Account disabled';
    case 'user.enabled':
      return 'Account enabled';
    case 'setup.completed':
      return 'First-time setup completed';
    case 'risk.decision':
      if (failed) return 'Sign-in blocked: it looked too unusual';
      return event.detail?.next === 'authenticated' && event.detail?.trusted_device
        ? 'Sign-in from a remembered device: second factor skipped'
        : 'Sign-in risk checked';
    case 'device.remembered':
      return 'Device remembered';
    case 'device.revoked':
      return 'Remembered device forgotten';
    case 'notification.sent':
      return 'Security email sent';
    case 'notification.failed':
      return 'Security email could not be sent';
    default:
      return event.type;
  }
}

/** "Firefox / Linux": the browser and system, without versions, as people name them. */
function deviceWords(userAgent: string | null): string | undefined {
  if (!userAgent) return undefined;
  const { browser, os } = describeUserAgent(userAgent);
  // A script's user agent (curl, python-requests) names no browser: saying "Unknown browser" adds nothing.
  if (browser === 'Unknown browser' && os === 'Unknown OS') return undefined;
  return `${browser.replace(/ \d+$/, '')} / ${os.replace(/ [\d.]+$/, '')}`;
}

/** "from 203.0.113.7 (PT) on Firefox / Linux": where and with what, as far as the event knows. */
function fromWhere(event: AuditEvent): string {
  const detail = event.detail as { country?: unknown; geo?: { country?: unknown; city?: unknown } } | null;
  const country =
    typeof detail?.country === 'string' ? detail.country : typeof detail?.geo?.country === 'string' ? detail.geo.country : undefined;
  const city = typeof detail?.geo?.city === 'string' ? detail.geo.city : undefined;
  const place = [city, country].filter(Boolean).join(', ');
  const device = deviceWords(event.userAgent);
  return [event.ip ? ` from ${event.ip}${place ? ` (${place})` : ''}` : place ? ` from ${place}` : '', device ? ` on ${device}` : ''].join(
    '',
  );
}

/** What came of a sign-in the risk engine judged (its detail.next, else its decision). */
const AFTER_RISK: Record<string, string> = {
  authenticated: 'no second factor asked',
  second_factor_required: 'second factor asked',
  enrollment_required: 'a second factor must be set up',
  denied: 'sign-in refused',
  allow: 'no second factor asked',
  second_factor: 'second factor asked',
  phishing_resistant_or_deny: 'passkey asked',
  deny: 'sign-in refused',
};

/**
 * The account page's sentence for an event: sign-ins say where from, on what, and what was asked
 * ("New sign-in from 203.0.113.7 on Firefox / Linux — second factor asked"); the rest as describeEvent.
 */
export function describeSecurityEvent(event: AuditEvent): string {
  const failed = event.outcome === 'failure';
  const next = event.detail?.next;
  switch (event.type) {
    case 'login.password':
      if (failed && event.reason !== 'user_disabled') return `Sign-in attempt with a wrong password${fromWhere(event)}`;
      if (failed) return describeEvent(event);
      if (next === 'authenticated') return `New sign-in${fromWhere(event)} — no second factor asked`;
      if (next === 'enrollment_required') return `Password accepted${fromWhere(event)} — a second factor must be set up`;
      return `Password accepted${fromWhere(event)} — second factor asked`;
    case 'login.second_factor': {
      if (failed) return `${describeEvent(event)}${fromWhere(event)}`;
      const method = event.detail?.method;
      const how =
        method === 'recovery_code'
          ? 'signed in with a recovery code'
          : method === 'webauthn'
            ? 'signed in with a passkey'
            : 'second factor asked';
      return `New sign-in${fromWhere(event)} — ${how}`;
    }
    case 'risk.decision': {
      const next = typeof event.detail?.next === 'string' ? event.detail.next : '';
      const decision = typeof event.detail?.decision === 'string' ? event.detail.decision : '';
      const reasons = Array.isArray(event.detail?.reasons) ? event.detail.reasons.filter((r) => typeof r === 'string') : [];
      const words = AFTER_RISK[next] ?? AFTER_RISK[decision] ?? decision.replaceAll('_', ' ');
      const unusual = reasons.length ? `looked unusual (${reasons.join(', ').replaceAll('_', ' ')})` : 'looked usual';
      return `Sign-in${fromWhere(event)} ${unusual}${words ? ` — ${words}` : ''}`;
    }
    default:
      return describeEvent(event);
  }
}
