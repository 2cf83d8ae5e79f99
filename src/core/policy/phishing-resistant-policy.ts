import type { SecondFactorMethod } from './second-factor-policy.js';

/**
 * Who must use a phishing-resistant factor (a passkey or security key, NIST 800-63B §3.2.5):
 * config webauthn.require_for, a list of "user:NAME" and "group:NAME" (the same subjects as the
 * access rules; administrators are group "admins").
 */
export interface PhishingResistantPolicy {
  users: ReadonlySet<string>;
  groups: ReadonlySet<string>;
}

export const NOBODY: PhishingResistantPolicy = { users: new Set(), groups: new Set() };

/** Reads webauthn.require_for; a subject of another shape is a configuration problem. */
export function phishingResistantPolicy(subjects: readonly string[], problems: string[]): PhishingResistantPolicy {
  const users = new Set<string>();
  const groups = new Set<string>();
  for (const subject of subjects) {
    const match = /^(user|group):(.+)$/.exec(subject);
    if (!match) problems.push(`webauthn.require_for: "${subject}" must be user:NAME or group:NAME (administrators: group:admins)`);
    else if (match[1] === 'user') users.add(match[2]!.toLowerCase());
    else groups.add(match[2]!);
  }
  return { users, groups };
}

/** Whether this user must prove a phishing-resistant factor. */
export function mustUsePhishingResistant(
  policy: PhishingResistantPolicy,
  subject: { username: string; groups: readonly string[] },
): boolean {
  return policy.users.has(subject.username.toLowerCase()) || subject.groups.some((g) => policy.groups.has(g));
}

/**
 * The sign-in of a user who must use a phishing-resistant factor, after a correct password:
 * - with a passkey: the passkey, or a recovery code as the account-recovery path (a lost key);
 *   an authenticator-app code is refused;
 * - without one but with an authenticator app: the app's code first (the password alone must not
 *   become a passkey), then a session restricted to registering a passkey;
 * - with no second factor at all: that restricted session straight away.
 */
export type PhishingResistantSignIn =
  | { kind: 'passkey'; methods: SecondFactorMethod[] }
  | { kind: 'prove_then_register'; methods: SecondFactorMethod[] }
  | { kind: 'register' };

export function phishingResistantSignIn(factors: { passkeys: number; totp: boolean; recoveryCodesLeft: number }): PhishingResistantSignIn {
  const recovery: SecondFactorMethod[] = factors.recoveryCodesLeft > 0 ? ['recovery_code'] : [];
  if (factors.passkeys > 0) return { kind: 'passkey', methods: ['webauthn', ...recovery] };
  if (factors.totp) return { kind: 'prove_then_register', methods: ['totp', ...recovery] };
  return { kind: 'register' };
}

/** Methods a require_for user may answer a pending sign-in with, given what they have. */
export function allowedSignInMethod(plan: PhishingResistantSignIn, method: SecondFactorMethod): boolean {
  return plan.kind !== 'register' && plan.methods.includes(method);
}
