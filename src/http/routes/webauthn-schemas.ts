import { Type } from '@sinclair/typebox';
import type { WebAuthnCredential } from '../../store/store.js';
import { toIso } from '../schemas.js';

/** Base64url fields of WebAuthn responses, bounded so junk is refused before any parsing. */
const b64 = (maxLength: number) => Type.String({ maxLength, pattern: '^[A-Za-z0-9_-]*={0,2}$' });

/** What @simplewebauthn/browser's startAuthentication() returns (PublicKeyCredential JSON, WebAuthn L3 §5.1). */
export const PasskeyAssertionSchema = Type.Object(
  {
    id: b64(1400),
    rawId: b64(1400),
    type: Type.Literal('public-key'),
    response: Type.Object({
      clientDataJSON: b64(4096),
      authenticatorData: b64(4096),
      signature: b64(2048),
      userHandle: Type.Optional(b64(512)),
    }),
    clientExtensionResults: Type.Optional(Type.Object({})),
    authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: false },
);

/** What @simplewebauthn/browser's startRegistration() returns. */
export const PasskeyRegistrationSchema = Type.Object(
  {
    id: b64(1400),
    rawId: b64(1400),
    type: Type.Literal('public-key'),
    response: Type.Object({
      clientDataJSON: b64(4096),
      attestationObject: b64(8192),
      transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 8 })),
      authenticatorData: Type.Optional(b64(8192)),
      publicKey: Type.Optional(b64(4096)),
      publicKeyAlgorithm: Type.Optional(Type.Integer()),
    }),
    clientExtensionResults: Type.Optional(Type.Object({})),
    authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: false },
);

/** Options for the browser: passed as is to @simplewebauthn/browser (WebAuthn's JSON form). */
export const CeremonyOptionsSchema = Type.Object({}, { additionalProperties: true, description: 'PublicKeyCredential*OptionsJSON' });

export const CredentialSchema = Type.Object({
  id: Type.String({ description: 'Credential id (base64url)' }),
  name: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
  last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  transports: Type.Array(Type.String()),
  aaguid: Type.String({ description: 'Authenticator model (all zeros when the authenticator does not say)' }),
  backup_eligible: Type.Boolean({ description: 'A synced passkey (may be copied to other devices by its provider)' }),
  backed_up: Type.Boolean(),
  counter: Type.Integer({ description: 'Last signature counter seen (0 for authenticators that keep none)' }),
});

export const credentialView = (c: WebAuthnCredential) => ({
  id: c.id,
  name: c.name,
  created_at: toIso(c.createdAt),
  last_used_at: c.lastUsedAt === null ? null : toIso(c.lastUsedAt),
  transports: c.transports,
  aaguid: c.aaguid,
  backup_eligible: c.backupEligible,
  backed_up: c.backupState,
  counter: c.counter,
});

export const CredentialIdParams = Type.Object({ credentialId: Type.String({ minLength: 1, maxLength: 1400 }) });
