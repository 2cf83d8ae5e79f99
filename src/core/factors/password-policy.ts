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
const CONTEXT_WORD_MIN = 4;

export type PasswordCheck =
  | { ok: true }
  | {
      ok: false;
      code:
        | 'password_too_short'
        | 'password_too_long'
        | 'password_too_common'
        | 'password_contains_username'
        | 'password_contains_service_name';
      message: string;
    };

let commonPasswords: Set<string> | undefined;

function isCommon(lowered: string): boolean {
  commonPasswords ??= new Set(dictionary.passwords.map((entry) => entry.toLowerCase()));
  return commonPasswords.has(lowered);
}

/**
 * The context-specific words no password may be built on (ASVS 5.0 V6.1.2, V6.2.11; NIST 800-63B
 * rev 4 §3.1.1.2 "context-specific words, such as the name of the service"): "twofold", the names
 * twofold shows users (totp.issuer, webauthn.rp_name) and the labels of public_url's host, except
 * its last one (the top-level domain). Words shorter than 4 characters are left out: they would
 * refuse too many unrelated passwords.
 */
export function contextWords(service: { names: readonly string[]; host: string }): string[] {
  const labels = service.host.toLowerCase().split('.').slice(0, -1);
  const words = ['twofold', ...service.names, ...labels].map((w) => w.normalize('NFKC').toLowerCase().trim());
  return [...new Set(words.filter((w) => [...w].length >= CONTEXT_WORD_MIN && !/^\d+$/.test(w)))];
}

/** NIST 800-63B rev 4 §3.1.1.2: length and blocklist only, no composition rules. */
export function checkNewPassword(
  password: string,
  context: { username?: string; contextWords?: readonly string[] },
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
  // Only the words themselves are refused, not passwords that merely contain them: "twofold" inside
  // a long passphrase costs an attacker as much as any other word, but "Twofold2024!" does not.
  const lettersOnly = (text: string) => text.replace(/[^\p{L}]/gu, '');
  const letters = lettersOnly(lowered);
  const words = (context.contextWords ?? []).map((word) => lettersOnly(word.normalize('NFKC').toLowerCase()));
  if (words.some((word) => [...word].length >= CONTEXT_WORD_MIN && letters === word)) {
    return refuse('password_contains_service_name', 'Your password must not be the name of this service. Choose a different one.');
  }
  return { ok: true };
}

function refuse(code: Exclude<PasswordCheck, { ok: true }>['code'], message: string): PasswordCheck {
  return { ok: false, code, message };
}
