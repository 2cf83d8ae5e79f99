import { describe, expect, it } from 'vitest';
import { normalizeUsername } from '../../../src/core/identity/username.js';

describe('normalizeUsername: one canonical form per account', () => {
  it.each([
    ['alice', 'alice'],
    ['Alice', 'alice'],
    ['ALICE', 'alice'],
    ['  alice  ', 'alice'],
    ['alice.smith', 'alice.smith'],
    ['alice_smith-2', 'alice_smith-2'],
    ['alice@example.com', 'alice@example.com'],
    ['józef', 'józef'],
    ['Ōsaka', 'ōsaka'],
    ['ユーザー', 'ユーザー'],
    ['1234', '1234'],
    // NFKC: compatibility forms fold onto the plain letters.
    ['ａｌｉｃｅ', 'alice'],
    ['\u212Aelvin', 'kelvin'], // KELVIN SIGN
    ['ﬁona', 'fiona'],
  ])('%j → %j', (input, expected) => {
    expect(normalizeUsername(input)).toBe(expected);
  });

  it('composed and decomposed forms are the same account', () => {
    const composed = 'Ren\u00e9e';
    const decomposed = 'Rene\u0301e';
    expect(composed).not.toBe(decomposed);
    expect(normalizeUsername(composed)).toBe(normalizeUsername(decomposed));
    expect(normalizeUsername(decomposed)).toBe('ren\u00e9e');
  });

  it('accepts 1 to 64 characters', () => {
    expect(normalizeUsername('a')).toBe('a');
    expect(normalizeUsername('a'.repeat(64))).toBe('a'.repeat(64));
    expect(normalizeUsername('a'.repeat(65))).toBeNull();
    expect(normalizeUsername(`  ${'a'.repeat(64)}  `)).toBe('a'.repeat(64));
  });

  it.each([
    ['empty', ''],
    ['only spaces', '   '],
    ['an inner space', 'alice smith'],
    ['a slash', 'alice/bob'],
    ['a colon', 'alice:admin'],
    ['a quote', "o'neil"],
    ['angle brackets', '<alice>'],
    ['a zero-width space', 'ali\u200bce'],
    ['a right-to-left override', 'alice\u202egpj'],
    ['a control character', 'alice\u0000'],
    ['a newline', 'alice\nbob'],
    ['an emoji', 'alice😀'],
  ])('refuses %s', (_label, input) => {
    expect(normalizeUsername(input)).toBeNull();
  });
});
