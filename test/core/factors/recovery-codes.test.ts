import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  RECOVERY_CODE_ALPHABET,
  RECOVERY_CODE_COUNT,
  RECOVERY_CODE_LENGTH,
  generateRecoveryCodes,
  hashRecoveryCode,
  normalizeRecoveryCode,
} from '../../../src/core/factors/recovery-codes.js';

const FORMAT = /^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$/;

describe('generateRecoveryCodes', () => {
  it('generates ten formatted, distinct codes by default', () => {
    const codes = generateRecoveryCodes(randomBytes);
    expect(codes).toHaveLength(RECOVERY_CODE_COUNT);
    expect(RECOVERY_CODE_COUNT).toBe(10);
    for (const code of codes) expect(code).toMatch(FORMAT);
    expect(new Set(codes).size).toBe(codes.length);
  });

  it('honours a custom count', () => {
    expect(generateRecoveryCodes(randomBytes, 3)).toHaveLength(3);
  });

  it('carries at least 50 bits of entropy', () => {
    const alphabet = new Set(RECOVERY_CODE_ALPHABET);
    expect(alphabet.size).toBe(32);
    expect(RECOVERY_CODE_LENGTH * Math.log2(alphabet.size)).toBeGreaterThanOrEqual(50);
  });

  it('avoids look-alike letters', () => {
    expect(RECOVERY_CODE_ALPHABET).not.toMatch(/[ilou]/);
  });

  it('maps each byte to a character without bias', () => {
    // 8 codes read bytes 0..95: each low-5-bit value (each character) exactly 3 times.
    let next = 0;
    const counting = (size: number) => Buffer.from(Array.from({ length: size }, () => next++));
    const counts = new Map<string, number>();
    for (const code of generateRecoveryCodes(counting, 8)) {
      for (const char of code.replace(/-/g, '')) counts.set(char, (counts.get(char) ?? 0) + 1);
    }
    expect(counts.size).toBe(32);
    expect(new Set(counts.values())).toEqual(new Set([3]));
  });

  it('stops when the random source keeps repeating itself', () => {
    expect(() => generateRecoveryCodes((size) => Buffer.alloc(size), 2)).toThrow();
  });
});

describe('normalizeRecoveryCode', () => {
  it('returns the canonical form of a generated code', () => {
    for (const code of generateRecoveryCodes(randomBytes)) {
      expect(normalizeRecoveryCode(code)).toBe(code.replace(/-/g, ''));
    }
  });

  it('strips dashes and spaces and ignores case', () => {
    expect(normalizeRecoveryCode(' AB12 - CD34-EF56 ')).toBe('ab12cd34ef56');
    expect(normalizeRecoveryCode('ab12cd34ef56')).toBe('ab12cd34ef56');
  });

  it('maps Crockford look-alikes onto digits', () => {
    expect(normalizeRecoveryCode('oOiI-lL00-1111')).toBe('001111001111');
  });

  it.each(['', 'abcd-efgh-jkm', 'abcd-efgh-jkmnp', 'abcd-efgh-jkmu', 'abcd_efgh_jkmn', 'abcd-efgh-jkm!', '😀😀😀😀-efgh-jkmn'])(
    'rejects %j',
    (input) => {
      expect(normalizeRecoveryCode(input)).toBeNull();
    },
  );
});

describe('hashRecoveryCode', () => {
  const pepper = Buffer.alloc(32, 1);

  it('is deterministic for a pepper', () => {
    expect(hashRecoveryCode('ab12cd34ef56', pepper)).toBe(hashRecoveryCode('ab12cd34ef56', Buffer.from(pepper)));
    expect(hashRecoveryCode('ab12cd34ef56', pepper)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs across peppers and codes', () => {
    expect(hashRecoveryCode('ab12cd34ef56', pepper)).not.toBe(hashRecoveryCode('ab12cd34ef56', Buffer.alloc(32, 2)));
    expect(hashRecoveryCode('ab12cd34ef56', pepper)).not.toBe(hashRecoveryCode('ab12cd34ef57', pepper));
  });

  it('refuses an empty pepper', () => {
    expect(() => hashRecoveryCode('ab12cd34ef56', Buffer.alloc(0))).toThrow();
  });
});
