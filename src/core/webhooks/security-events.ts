/**
 * The audit events an endpoint can subscribe to: the security events of issue 5 (sign-in, new
 * device, step-up, risk decisions, theft, revocation) and a few close relatives. Anything else in the
 * audit trail (enrollment steps, notifications, setup) never leaves through a webhook.
 */
export const WEBHOOK_EVENT_TYPES = [
  // Sign-in: each step's outcome, and the session it opens.
  'login.password',
  'login.second_factor',
  'session.created',
  // New device: the user chose to remember this browser.
  'device.remembered',
  'device.revoked',
  // Step-up ("sudo mode"), success or failure.
  'session.step_up',
  // The risk engine's decision on a sign-in.
  'risk.decision',
  // Theft: a reused refresh token, a session used from another context, a cloned passkey.
  'token.theft_detected',
  'session.hijack_suspected',
  'session.context_changed',
  'webauthn.clone_suspected',
  // Sessions ended other than by signing out, and signing out.
  'session.revoked',
  'session.logout',
  // How the account is protected changed.
  'password.changed',
  'factor.totp.enrolled',
  'factor.webauthn.registered',
  'factor.webauthn.removed',
  'factor.recovery_codes.regenerated',
  'factor.reset',
  'user.disabled',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Sent only by `webhooks test`: never subscribed to, always delivered to the endpoint tested. */
export const TEST_EVENT_TYPE = 'webhook.test';

const KNOWN = new Set<string>(WEBHOOK_EVENT_TYPES);

export type SubscriptionCheck = { ok: true; patterns: string[] } | { ok: false; problem: string };

/**
 * An endpoint subscribes with exact types ("session.revoked"), prefixes ("session.*") or "*" (every
 * type above). A pattern that can match nothing is refused, so a typo is an error, not silence.
 */
export function checkSubscription(patterns: readonly string[]): SubscriptionCheck {
  const cleaned = [...new Set(patterns.map((p) => p.trim()).filter((p) => p !== ''))];
  if (cleaned.length === 0) return { ok: false, problem: 'events: name at least one event type, a prefix such as "session.*", or "*"' };
  for (const pattern of cleaned) {
    if (!WEBHOOK_EVENT_TYPES.some((type) => matches(pattern, type))) {
      return { ok: false, problem: `events: "${pattern.slice(0, 64)}" matches no webhook event type (see docs/webhooks.md)` };
    }
  }
  return { ok: true, patterns: cleaned };
}

function matches(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

/** Whether an endpoint with these patterns receives an audit event of this type. */
export function subscribesTo(patterns: readonly string[], type: string): boolean {
  return KNOWN.has(type) && patterns.some((pattern) => matches(pattern, type));
}
