import { createHmac } from 'node:crypto';
import type { RandomBytes } from '../random.js';

export const RECOVERY_CODE_COUNT = 10;

/** Crockford base32, lower case: no i, l, o or u, so codes survive being read aloud or written down. */
export const RECOVERY_CODE_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
/** 12 characters x 5 bits = 60 bits of entropy; the requirement is at least 50. */
export const RECOVERY_CODE_LENGTH = 12;
const GROUP = 4;

const CODE_PATTERN = new RegExp(`^[${RECOVERY_CODE_ALPHABET}]{${RECOVERY_CODE_LENGTH}}$`);

/** Formatted as xxxx-xxxx-xxxx; all distinct. */
export function generateRecoveryCodes(random: RandomBytes, count: number = RECOVERY_CODE_COUNT): string[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError('count must be a positive integer');
  const codes = new Set<string>();
  // Collisions at 60 bits are practically impossible; the cap only stops a broken random source looping forever.
  for (let attempts = 0; codes.size < count; attempts++) {
    if (attempts >= count * 10) throw new Error('random source keeps repeating recovery codes');
    codes.add(format(randomCode(random)));
  }
  return [...codes];
}

function randomCode(random: RandomBytes): string {
  const bytes = random(RECOVERY_CODE_LENGTH);
  if (bytes.length !== RECOVERY_CODE_LENGTH) throw new Error('random source returned the wrong number of bytes');
  // 256 is a multiple of 32, so the low 5 bits of a uniform byte are uniform: no modulo bias, no rejection.
  let code = '';
  for (const byte of bytes) code += RECOVERY_CODE_ALPHABET[byte & 31];
  return code;
}

function format(code: string): string {
  const groups: string[] = [];
  for (let i = 0; i < code.length; i += GROUP) groups.push(code.slice(i, i + GROUP));
  return groups.join('-');
}

/** The canonical 12-character form, or null when the input cannot be a recovery code. */
export function normalizeRecoveryCode(input: string): string | null {
  const code = input
    .replace(/[\s-]+/g, '')
    .toLowerCase()
    // Crockford base32 decoding maps look-alikes onto the digits they resemble.
    .replace(/o/g, '0')
    .replace(/[il]/g, '1');
  return CODE_PATTERN.test(code) ? code : null;
}

/**
 * Stored form. Keyed with a pepper kept outside the database, so a stolen database alone
 * cannot be used to search the 60-bit code space offline.
 */
export function hashRecoveryCode(normalized: string, pepper: Buffer): string {
  if (pepper.length === 0) throw new Error('recovery code pepper must not be empty');
  return createHmac('sha256', pepper).update(normalized, 'utf8').digest('hex');
}
