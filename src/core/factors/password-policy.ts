import { dictionary } from '@zxcvbn-ts/language-common';

export interface PasswordRules {
  minLength: number;
  maxLength: number;
}

/**
 * NIST 800-63B rev 4 §3.1.1.2: at least 8 characters when the password is one factor of several,
 * and verifiers SHOULD allow at least 64.
 */
export const DEFAULT_PASSWORD_RULES: PasswordRules = Object.freeze({ minLength: 8, maxLength: 1024 });

const NIST_MIN_LENGTH = 8;
const NIST_MIN_MAX_LENGTH = 64;
/** Shorter usernames would refuse too many unrelated passwords. */
const USERNAME_SUBSTRING_MIN = 4;

export type PasswordCheck =
  | { ok: true }
  | {
      ok: false;
      code: 'password_too_short' | 'password_too_long' | 'password_too_common' | 'password_contains_username';
      message: string;
    };

let commonPasswords: Set<string> | undefined;

function isCommon(lowered: string): boolean {
  commonPasswords ??= new Set(dictionary.passwords.map((entry) => entry.toLowerCase()));
  return commonPasswords.has(lowered);
}

/** NIST 800-63B rev 4 §3.1.1.2: length and blocklist only, no composition rules. */
export function checkNewPassword(
  password: string,
  context: { username?: string },
  rules: PasswordRules = DEFAULT_PASSWORD_RULES,
): PasswordCheck {
  if (rules.minLength < NIST_MIN_LENGTH || rules.maxLength < NIST_MIN_MAX_LENGTH || rules.minLength > rules.maxLength) {
    throw new RangeError(`password rules must allow ${NIST_MIN_LENGTH} to at least ${NIST_MIN_MAX_LENGTH} characters`);
  }
  // §3.1.1.2: normalise (NFKC) and count each Unicode code point as one character.
  const normalized = password.normalize('NFKC');
  const length = [...normalized].length;
  if (length < rules.minLength) {
    return refuse('password_too_short', `Use at least ${rules.minLength} characters.`);
  }
  if (length > rules.maxLength) {
    return refuse('password_too_long', `Use at most ${rules.maxLength} characters.`);
  }
  const lowered = normalized.toLowerCase();
  if (isCommon(lowered)) {
    return refuse('password_too_common', 'This password is too common and easy to guess. Choose a different one.');
  }
  const username = context.username?.normalize('NFKC').toLowerCase() ?? '';
  if (username !== '' && (lowered === username || ([...username].length >= USERNAME_SUBSTRING_MIN && lowered.includes(username)))) {
    return refuse('password_contains_username', 'Your password must not contain your username.');
  }
  return { ok: true };
}

function refuse(code: Exclude<PasswordCheck, { ok: true }>['code'], message: string): PasswordCheck {
  return { ok: false, code, message };
}
