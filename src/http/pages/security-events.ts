import type { AuditEvent } from '../../store/store.js';

/** Why a session ended, in the words of the person it happened to. */
const ENDED_BECAUSE: Record<string, string> = {
  revoked_by_user: 'signed out by you',
  logout: 'signed out',
  password_changed: 'after your password changed',
  factor_changed: 'after your authenticator changed',
  replaced_after_enrollment: 'replaced by a two-factor session',
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
      return method === 'recovery_code' ? 'Signed in with a recovery code' : 'Signed in with an authenticator code';
    case 'session.created':
      return 'New session started';
    case 'session.renewed':
      return 'Session renewed';
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
    default:
      return event.type;
  }
}
