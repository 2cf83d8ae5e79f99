import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const KEY_BYTES = 32;
/** 96-bit IVs, NIST SP 800-38D §8.2; random IVs are safe far beyond the number of secrets sealed here. */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION = 'v1';
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Deliberately carries no detail: the cause could hint at key or plaintext. */
export class SecretBoxError extends Error {
  constructor() {
    super('sealed secret could not be opened');
    this.name = 'SecretBoxError';
  }
}

/** AES-256-GCM with associated data binding each sealed value to its owner (e.g. a user id). */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) throw new Error('encryption key must be 32 bytes');
    this.#key = Buffer.from(key);
  }

  /** Returns `v1.<iv>.<ciphertext+tag>`, base64url. */
  seal(plaintext: Buffer, associatedData: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${iv.toString('base64url')}.${sealed.toString('base64url')}`;
  }

  open(sealed: string, associatedData: string): Buffer {
    const parts = sealed.split('.');
    const [version, ivText, bodyText] = parts;
    if (parts.length !== 3 || version !== VERSION || !ivText || !bodyText) throw new SecretBoxError();
    if (!BASE64URL.test(ivText) || !BASE64URL.test(bodyText)) throw new SecretBoxError();
    const iv = Buffer.from(ivText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw new SecretBoxError();
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new SecretBoxError();
    }
  }
}

/**
 * HKDF-SHA256 (RFC 5869) so each purpose gets an independent key from one master key.
 * No salt: the master key is already uniformly random (RFC 5869 §3.1).
 */
export function deriveKey(master: Buffer, purpose: string): Buffer {
  if (master.length < KEY_BYTES) throw new Error('master key must be at least 32 bytes');
  if (purpose === '') throw new Error('key purpose must not be empty');
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `twofold:${purpose}`, KEY_BYTES));
}
