import { createHmac, timingSafeEqual } from 'node:crypto';
import type { RandomBytes } from '../random.js';

export type TotpAlgorithm = 'SHA1' | 'SHA256' | 'SHA512';

export interface TotpParams {
  algorithm: TotpAlgorithm;
  digits: number;
  /** Seconds per time step (RFC 6238 §4.1 "X"). */
  period: number;
}

/** What every mainstream authenticator app accepts; several ignore the other parameters. */
export const DEFAULT_TOTP_PARAMS: TotpParams = Object.freeze({ algorithm: 'SHA1', digits: 6, period: 30 });

/** RFC 4226 §4 recommends a 160-bit shared secret. */
const SECRET_BYTES = 20;

const HMAC_NAMES: Record<TotpAlgorithm, string> = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' };

function assertDigits(digits: number): void {
  // RFC 4226 §5.3: at least 6; the truncated value is 31 bits, so more than 10 digits adds nothing.
  if (!Number.isInteger(digits) || digits < 6 || digits > 10) throw new RangeError('digits must be an integer from 6 to 10');
}

/** RFC 4226 §5.3. */
export function hotp(secret: Buffer, counter: number, params: Pick<TotpParams, 'algorithm' | 'digits'>): string {
  assertDigits(params.digits);
  if (!Number.isSafeInteger(counter) || counter < 0) throw new RangeError('counter must be a non-negative integer');
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(HMAC_NAMES[params.algorithm], secret).update(message).digest();
  // Dynamic truncation, RFC 4226 §5.4.
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return (binary % 10 ** params.digits).toString().padStart(params.digits, '0');
}

/** RFC 6238 §4.2 with T0 = 0. */
export function totpStep(nowMs: number, period: number): number {
  if (!Number.isInteger(period) || period <= 0) throw new RangeError('period must be a positive integer');
  return Math.floor(nowMs / (period * 1000));
}

export function generateTotp(secret: Buffer, nowMs: number, params: TotpParams): string {
  return hotp(secret, totpStep(nowMs, params.period), params);
}

export type TotpVerification = { ok: true; step: number } | { ok: false; reason: 'malformed' | 'invalid' | 'replayed' };

/**
 * Accepts steps current-window..current+window (RFC 6238 §5.2 allows for clock drift), each at most once:
 * the matched step must be greater than lastUsedStep, so a code cannot be replayed inside its window (RFC 6238 §5.2).
 */
export function verifyTotp(args: {
  secret: Buffer;
  code: string;
  nowMs: number;
  params: TotpParams;
  window: number;
  lastUsedStep: number | null;
}): TotpVerification {
  const { secret, nowMs, params, window, lastUsedStep } = args;
  if (!Number.isInteger(window) || window < 0) throw new RangeError('window must be a non-negative integer');
  assertDigits(params.digits);
  const code = args.code.replace(/\s+/g, '');
  if (code.length !== params.digits || !/^[0-9]+$/.test(code)) return { ok: false, reason: 'malformed' };

  const submitted = Buffer.from(code, 'ascii');
  const current = totpStep(nowMs, params.period);
  const matches: number[] = [];
  // Every candidate is computed and compared, so timing does not reveal which step (if any) matched.
  for (let step = current - window; step <= current + window; step++) {
    if (step < 0) continue;
    const expected = Buffer.from(hotp(secret, step, params), 'ascii');
    if (timingSafeEqual(expected, submitted)) matches.push(step);
  }
  if (matches.length === 0) return { ok: false, reason: 'invalid' };
  const fresh = matches.find((step) => lastUsedStep === null || step > lastUsedStep);
  return fresh === undefined ? { ok: false, reason: 'replayed' } : { ok: true, step: fresh };
}

export function generateTotpSecret(random: RandomBytes): Buffer {
  const secret = random(SECRET_BYTES);
  if (secret.length !== SECRET_BYTES) throw new Error('random source returned the wrong number of bytes');
  return secret;
}

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 §6 without padding: authenticator apps expect the bare form in otpauth URIs. */
export function encodeBase32(secret: Buffer): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of secret) {
    value = ((value << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32_ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** Tolerates what people type when copying a secret by hand: spaces, lower case, trailing padding. */
export function decodeBase32(text: string): Buffer {
  const clean = text.replace(/\s+/g, '').toUpperCase().replace(/=+$/, '');
  // RFC 4648 §6: 1, 3 or 6 trailing characters cannot come from whole bytes.
  if ([1, 3, 6].includes(clean.length % 8)) throw new Error('invalid base32 length');
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of clean) {
    const index = BASE32_ALPHABET.indexOf(char);
    if (index === -1) throw new Error('invalid base32 character');
    value = ((value << 5) | index) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(bytes);
}

/** Google Authenticator Key Uri Format: label "Issuer:account", issuer repeated as a parameter. */
export function otpauthUri(args: { issuer: string; account: string; secret: Buffer; params: TotpParams }): string {
  const { issuer, account, secret, params } = args;
  // The Key Uri Format forbids a colon in the issuer: apps split the label at the first colon, encoded or not.
  if (issuer.includes(':')) throw new Error('issuer must not contain a colon');
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const query = [
    `secret=${encodeBase32(secret)}`,
    `issuer=${encodeURIComponent(issuer)}`,
    `algorithm=${params.algorithm}`,
    `digits=${params.digits}`,
    `period=${params.period}`,
  ].join('&');
  return `otpauth://totp/${label}?${query}`;
}
