import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK, importJWK, type JWK } from 'jose';
import type { SigningKeyRecord } from '../store/store.js';
import type { SecretBox } from './secret-box.js';

/** A usable key: the stored record plus the keys themselves, imported once. */
export interface LoadedSigningKey {
  record: SigningKeyRecord;
  /** Present for the key that signs; verification needs only the public half. */
  privateKey: KeyObject;
  /** Imported once for jose, so a verification does not convert the key again. */
  publicKey: Awaited<ReturnType<typeof importJWK>>;
}

/**
 * A new Ed25519 key (RFC 8037). Its kid is the RFC 7638 thumbprint of the public JWK, so the id
 * cannot be reused for another key; the private key is sealed with the kid as associated data.
 */
export async function generateSigningKey(box: SecretBox, now: number): Promise<SigningKeyRecord> {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  return {
    kid,
    algorithm: 'EdDSA',
    publicJwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, kid, alg: 'EdDSA', use: 'sig' },
    privateSealed: box.seal(pkcs8, `signing-key:${kid}`),
    createdAt: now,
    retiredAt: null,
    verifyUntil: null,
  };
}

export async function loadSigningKey(box: SecretBox, record: SigningKeyRecord): Promise<LoadedSigningKey> {
  const pkcs8 = box.open(record.privateSealed, `signing-key:${record.kid}`);
  const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  const publicKey = await importJWK(record.publicJwk as JWK, 'EdDSA');
  return { record, privateKey, publicKey };
}
