import type { SessionId, UserId } from '../core/ids.js';
import type { EventOutcome } from '../store/store.js';
import type { AuthDeps, RequestContext } from './deps.js';

/** Event types of the audit trail: one per sign-in step, factor change and session change. */
export type EventType =
  | 'login.password'
  | 'login.second_factor'
  | 'session.created'
  | 'session.renewed'
  | 'session.revoked'
  | 'session.logout'
  | 'session.step_up'
  | 'token.theft_detected'
  | 'session.context_changed'
  | 'session.hijack_suspected'
  | 'factor.totp.enrollment_started'
  | 'factor.totp.enrolled'
  | 'factor.recovery_codes.regenerated'
  | 'factor.reset'
  | 'factor.webauthn.registered'
  | 'factor.webauthn.renamed'
  | 'factor.webauthn.removed'
  | 'factor.webauthn.enrolled'
  | 'webauthn.clone_suspected'
  | 'password.changed'
  | 'password.reset_link_issued'
  | 'password.reset'
  | 'user.created'
  | 'user.disabled'
  | 'user.enabled'
  | 'setup.completed'
  | 'risk.decision'
  | 'device.remembered'
  | 'device.revoked'
  | 'notification.sent'
  | 'notification.failed'
  | 'webhook.endpoint_added'
  | 'webhook.endpoint_removed';

export interface EventInput {
  type: EventType;
  outcome: EventOutcome;
  userId?: UserId | null;
  sessionId?: SessionId | null;
  reason?: string | null;
  detail?: Record<string, unknown> | null;
}

/** Appends one event. Details must never carry a secret: callers pass ids and outcomes only. */
export async function recordEvent(deps: AuthDeps, input: EventInput, ctx: RequestContext | null): Promise<void> {
  await deps.store.events.append({
    at: deps.clock.now(),
    type: input.type,
    outcome: input.outcome,
    userId: input.userId ?? null,
    sessionId: input.sessionId ?? null,
    ip: ctx?.ip ?? null,
    userAgent: ctx?.userAgent ?? null,
    reason: input.reason ?? null,
    detail: input.detail ?? null,
  });
}
