import type { Store } from '../../store/store.js';
import type { RiskService } from '../risk/risk-service.js';

/** Audit events that change how the account is protected, with the sentence each email opens with. */
const FACTOR_CHANGES: Record<string, string> = {
  'factor.totp.enrolled': 'An authenticator app was set up',
  'factor.recovery_codes.regenerated': 'New recovery codes were made (the old ones no longer work)',
  'factor.reset': 'An administrator removed your second factors',
  'factor.webauthn.registered': 'A passkey was added',
  'factor.webauthn.removed': 'A passkey was removed',
  'password.changed': 'Your password was changed',
  'password.reset': 'Your password was reset with a reset link',
};

/**
 * Wraps a store so that every successful factor or password change, whichever use case records it,
 * also emails the user (when SMTP is configured and the user has an address): the audit event is the
 * one fact both come from.
 */
export function withSecurityMail(store: Store, risk: RiskService): Store {
  if (!risk.outbox) return store;
  const { events } = store;
  return {
    ...store,
    events: {
      ...events,
      async append(event) {
        await events.append(event);
        const change = FACTOR_CHANGES[event.type];
        if (!change || event.outcome !== 'success' || !event.userId) return;
        const user = await store.users.findById(event.userId);
        if (!user?.email) return;
        const when = new Date(event.at).toISOString().replace('T', ' ').slice(0, 16);
        risk.mail({
          to: user.email,
          userId: user.id,
          kind: event.type,
          subject: `${change.split(' (')[0]} on your account`,
          text: [
            `${change} on your twofold account "${user.username}" at ${when} UTC${event.ip ? ` from IP ${event.ip}` : ''}.`,
            '',
            'If this was you, there is nothing to do. If not, sign in, end the sessions you do not recognise and change your password.',
          ].join('\n'),
        });
      },
    },
  };
}
