import { describe, expect, it } from 'vitest';
import { SecretBox, SecretBoxError, deriveKey } from '../../src/crypto/secret-box.js';

const key = Buffer.alloc(32, 0x11);
const secret = Buffer.from('12345678901234567890', 'ascii');

function flipChar(text: string, index: number): string {
  const replacement = text[index] === 'A' ? 'B' : 'A';
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

describe('SecretBox', () => {
  it('round-trips with the same associated data', () => {
    const box = new SecretBox(key);
    const sealed = box.seal(secret, 'user:42');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(box.open(sealed, 'user:42')).toEqual(secret);
  });

  it('round-trips an empty plaintext', () => {
    const box = new SecretBox(key);
    expect(box.open(box.seal(Buffer.alloc(0), 'x'), 'x')).toEqual(Buffer.alloc(0));
  });

  it('uses a fresh IV every time', () => {
    const box = new SecretBox(key);
    const ivs = new Set(Array.from({ length: 50 }, () => box.seal(secret, 'user:42').split('.')[1]));
    expect(ivs.size).toBe(50);
  });

  it('throws on a tampered ciphertext', () => {
    const box = new SecretBox(key);
    const sealed = box.seal(secret, 'user:42');
    const [, iv, body] = sealed.split('.') as [string, string, string];
    expect(() => box.open(`v1.${iv}.${flipChar(body, 3)}`, 'user:42')).toThrow(SecretBoxError);
    expect(() => box.open(`v1.${flipChar(iv, 0)}.${body}`, 'user:42')).toThrow(SecretBoxError);
  });

  it('throws on the wrong associated data', () => {
    const box = new SecretBox(key);
    expect(() => box.open(box.seal(secret, 'user:42'), 'user:43')).toThrow(SecretBoxError);
  });

  it('throws on the wrong key', () => {
    const sealed = new SecretBox(key).seal(secret, 'user:42');
    expect(() => new SecretBox(Buffer.alloc(32, 0x22)).open(sealed, 'user:42')).toThrow(SecretBoxError);
  });

  it.each([
    '',
    'v1',
    'v1..',
    'v2.AAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA',
    'v1.AAAA.AAAAAAAAAAAAAAAAAAAAAA',
    'v1.AAAAAAAAAAAAAAAA.AA',
    'v1.AAAAAAAAAAAAAAAA.AAAA AAAAAAAAAAAAAAAAAAA',
    'v1.a.b.c',
  ])('throws SecretBoxError on malformed %j', (sealed) => {
    expect(() => new SecretBox(key).open(sealed, 'x')).toThrow(SecretBoxError);
  });

  it('keeps secret material out of error messages', () => {
    const box = new SecretBox(key);
    try {
      box.open(box.seal(secret, 'a'), 'b');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SecretBoxError);
      const message = (error as Error).message;
      expect(message).not.toContain(secret.toString());
      expect(message).not.toContain(key.toString('base64'));
    }
  });

  it('requires a 32-byte key', () => {
    expect(() => new SecretBox(Buffer.alloc(16))).toThrow('encryption key must be 32 bytes');
    expect(() => new SecretBox(Buffer.alloc(33))).toThrow('encryption key must be 32 bytes');
  });

  it("is not affected by later changes to the caller's key buffer", () => {
    const mutable = Buffer.from(key);
    const box = new SecretBox(mutable);
    const sealed = box.seal(secret, 'x');
    mutable.fill(0);
    expect(box.open(sealed, 'x')).toEqual(secret);
  });
});

describe('deriveKey', () => {
  const master = Buffer.alloc(32, 0x33);

  it('derives 32 deterministic bytes per purpose', () => {
    const a = deriveKey(master, 'totp-secrets');
    expect(a).toHaveLength(32);
    expect(deriveKey(master, 'totp-secrets')).toEqual(a);
    expect(deriveKey(master, 'recovery-codes')).not.toEqual(a);
    expect(deriveKey(Buffer.alloc(32, 0x34), 'totp-secrets')).not.toEqual(a);
  });

  it('matches HKDF-SHA256 with info twofold:<purpose>', async () => {
    const { hkdfSync } = await import('node:crypto');
    const expected = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'twofold:sessions', 32));
    expect(deriveKey(master, 'sessions')).toEqual(expected);
  });

  it('feeds a SecretBox', () => {
    const box = new SecretBox(deriveKey(master, 'totp-secrets'));
    expect(box.open(box.seal(secret, 'x'), 'x')).toEqual(secret);
  });
});
