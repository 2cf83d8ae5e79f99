import { createHash, createSign, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { isoCBOR } from '@simplewebauthn/server/helpers';

/**
 * A software WebAuthn authenticator (ES256, "none" attestation) built from the spec, for tests that
 * need real signed answers without a browser: it signs exactly what a CTAP2 authenticator signs
 * (WebAuthn §6.1 authenticator data, §6.3.3 assertion signature over authData || SHA-256(clientData)).
 * Every part of the answer can be bent (origin, RP ID, counter) to test refusals.
 */
export class SoftAuthenticator {
  readonly credentialId = randomBytes(32);
  private readonly privateKey: KeyObject;
  private readonly jwk: { x: string; y: string };
  counter: number;

  constructor(options: { counter?: number } = {}) {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    this.jwk = publicKey.export({ format: 'jwk' }) as { x: string; y: string };
    this.counter = options.counter ?? 0;
  }

  get id(): string {
    return this.credentialId.toString('base64url');
  }

  private authData(rpId: string, flags: number, counter: number, attested?: Buffer): Buffer {
    const count = Buffer.alloc(4);
    count.writeUInt32BE(counter);
    return Buffer.concat([createHash('sha256').update(rpId).digest(), Buffer.from([flags]), count, ...(attested ? [attested] : [])]);
  }

  private coseKey(): Buffer {
    const key = new Map<number, number | Uint8Array>([
      [1, 2], // kty: EC2
      [3, -7], // alg: ES256
      [-1, 1], // crv: P-256
      [-2, new Uint8Array(Buffer.from(this.jwk.x, 'base64url'))],
      [-3, new Uint8Array(Buffer.from(this.jwk.y, 'base64url'))],
    ]);
    return Buffer.from(isoCBOR.encode(key));
  }

  private clientData(type: string, challenge: string, origin: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
  }

  /** The answer to navigator.credentials.create() with the given options. */
  register(options: { challenge: string; rp?: { id?: string } }, at: { origin: string; rpId?: string }) {
    const rpId = at.rpId ?? options.rp?.id ?? '';
    const idLength = Buffer.alloc(2);
    idLength.writeUInt16BE(this.credentialId.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLength, this.credentialId, this.coseKey()]);
    // UP | UV | AT
    const authData = this.authData(rpId, 0x01 | 0x04 | 0x40, this.counter, attested);
    const attestationObject = isoCBOR.encode(
      new Map<string, unknown>([
        ['fmt', 'none'],
        ['attStmt', new Map()],
        ['authData', new Uint8Array(authData)],
      ]) as never,
    );
    return {
      id: this.id,
      rawId: this.id,
      type: 'public-key' as const,
      response: {
        clientDataJSON: this.clientData('webauthn.create', options.challenge, at.origin).toString('base64url'),
        attestationObject: Buffer.from(attestationObject).toString('base64url'),
        transports: ['usb'],
      },
      clientExtensionResults: {},
    };
  }

  /**
   * The answer to navigator.credentials.get(): the counter goes up by one unless `counter` says
   * otherwise (a cloned key replays an older value).
   */
  assert(challenge: string, at: { origin: string; rpId: string; counter?: number; credentialId?: string }) {
    this.counter = at.counter ?? this.counter + 1;
    const authData = this.authData(at.rpId, 0x01 | 0x04, this.counter);
    const clientData = this.clientData('webauthn.get', challenge, at.origin);
    const signer = createSign('sha256');
    signer.update(Buffer.concat([authData, createHash('sha256').update(clientData).digest()]));
    return {
      id: at.credentialId ?? this.id,
      rawId: at.credentialId ?? this.id,
      type: 'public-key' as const,
      response: {
        clientDataJSON: clientData.toString('base64url'),
        authenticatorData: authData.toString('base64url'),
        signature: signer.sign(this.privateKey).toString('base64url'),
      },
      clientExtensionResults: {},
    };
  }
}
