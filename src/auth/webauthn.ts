import { createHash } from 'node:crypto';
import type {
  AuthenticationResponseJSON,
  AuthenticatorTransport,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import {
  CHALLENGE_BYTES,
  checkSignatureCounter,
  factorsOfAssertion,
  judgeChallenge,
  looksLikeChallenge,
  normalizeCredentialName,
  type CeremonyPurpose,
} from '../core/factors/webauthn.js';
import type { UserId } from '../core/ids.js';
import type { Session } from '../core/session/session.js';
import type { User, WebAuthnCredential } from '../store/store.js';
import { recordEvent } from './audit.js';
import type { AuthDeps, RequestContext } from './deps.js';
import { AppError } from './errors.js';

/**
 * Passkeys and security keys (WebAuthn): registration on the account page, and assertions as the
 * second factor of a sign-in or as a step-up. Every challenge is 32 random bytes, kept only as its
 * SHA-256, bound to the session or pending sign-in that asked for it, good once and only until the
 * ceremony's timeout.
 */

/**
 * @simplewebauthn/server, loaded with the first ceremony: it is among the largest modules twofold
 * uses, and a deployment without passkeys (or a node that only answers forward-auth) never needs it.
 */
let library: Promise<typeof import('@simplewebauthn/server') & typeof import('@simplewebauthn/server/helpers')> | undefined;
const webauthnLibrary = () =>
  (library ??= Promise.all([import('@simplewebauthn/server'), import('@simplewebauthn/server/helpers')]).then(([server, helpers]) => ({
    ...server,
    ...helpers,
  })));

/** A response as it arrives over HTTP: the library's JSON shape, with the optional parts optional. */
type Received<T> = Omit<T, 'clientExtensionResults' | 'authenticatorAttachment'> & {
  clientExtensionResults?: object;
  authenticatorAttachment?: string;
};
export type PasskeyAssertion = Received<AuthenticationResponseJSON>;
export type PasskeyRegistration = Received<RegistrationResponseJSON>;

/** The library's own type: extension results default to none; the attachment hint is not needed. */
const asLibraryJson = <T>(received: Received<T>): T =>
  ({ ...received, clientExtensionResults: received.clientExtensionResults ?? {}, authenticatorAttachment: undefined }) as T;

export type PasskeyRefusal =
  'malformed' | 'challenge_invalid' | 'unknown_credential' | 'wrong_origin' | 'wrong_rp_id' | 'invalid' | 'clone_suspected';

export type PasskeyCheck =
  { ok: true; credentialId: string; userVerified: boolean; factors: 1 | 2 } | { ok: false; reason: PasskeyRefusal };

const hashChallenge = (challenge: string): string => createHash('sha256').update(challenge).digest('hex');

/**
 * Passkeys cannot work when the RP ID is an IP address, nor from a page whose origin is not one of
 * the configured ones: say so plainly before the browser is asked anything.
 */
export function assertPasskeysUsable(deps: AuthDeps, requestOrigin: string | undefined): void {
  const rp = deps.config.webauthn;
  if (rp.unavailableReason) throw new AppError('passkey_unavailable', `Passkeys are not available: ${rp.unavailableReason}.`);
  if (requestOrigin !== undefined && !rp.origins.includes(requestOrigin)) {
    throw new AppError(
      'passkey_origin_mismatch',
      `Passkeys are set up for ${rp.origins.join(', ')} (RP ID "${rp.rpId}"), but this request comes from ${requestOrigin}. Open twofold at its public address, or add this origin to webauthn.origins.`,
    );
  }
}

async function issueChallenge(deps: AuthDeps, purpose: CeremonyPurpose, userId: UserId, boundTo: string): Promise<string> {
  const challenge = deps.random(CHALLENGE_BYTES).toString('base64url');
  const now = deps.clock.now();
  await deps.store.webauthn.saveChallenge({
    challengeHash: hashChallenge(challenge),
    purpose,
    userId,
    boundTo,
    createdAt: now,
    expiresAt: now + deps.config.webauthn.timeoutMs,
    usedAt: null,
  });
  return challenge;
}

interface ClientData {
  type: string;
  challenge: string;
  origin: string;
}

/** The client data the browser signed over, or null when it is not the JSON WebAuthn defines. */
function readClientData(clientDataJSON: unknown): ClientData | null {
  if (typeof clientDataJSON !== 'string' || clientDataJSON.length > 4096) return null;
  try {
    const data = JSON.parse(Buffer.from(clientDataJSON, 'base64url').toString('utf8')) as Partial<ClientData>;
    if (typeof data.type !== 'string' || typeof data.challenge !== 'string' || typeof data.origin !== 'string') return null;
    return { type: data.type, challenge: data.challenge, origin: data.origin };
  } catch {
    return null;
  }
}

/** The first 32 bytes of authenticator data are SHA-256 of the RP ID the authenticator used (WebAuthn §6.1). */
function rpIdHashMatches(authenticatorData: Buffer, rpId: string): boolean {
  return authenticatorData.length >= 37 && authenticatorData.subarray(0, 32).equals(createHash('sha256').update(rpId).digest());
}

/**
 * The checks every ceremony answer goes through before its signature: a challenge we issued for this
 * ceremony and binding, still unused and unexpired; an origin and RP ID of ours. Nothing is written.
 */
async function precheck(
  deps: AuthDeps,
  expected: { purpose: CeremonyPurpose; userId: UserId; boundTo: string },
  clientDataJSON: unknown,
  authenticatorData: Buffer | null,
): Promise<{ ok: true; challenge: string; challengeHash: string } | { ok: false; reason: PasskeyRefusal }> {
  const clientData = readClientData(clientDataJSON);
  if (!clientData || !looksLikeChallenge(clientData.challenge)) return { ok: false, reason: 'malformed' };
  const challengeHash = hashChallenge(clientData.challenge);
  const stored = await deps.store.webauthn.findChallenge(challengeHash);
  const verdict = judgeChallenge(stored, { ...expected, now: deps.clock.now() });
  if (!verdict.ok) return { ok: false, reason: 'challenge_invalid' };
  if (!deps.config.webauthn.origins.includes(clientData.origin)) return { ok: false, reason: 'wrong_origin' };
  if (!authenticatorData) return { ok: false, reason: 'malformed' };
  if (!rpIdHashMatches(authenticatorData, deps.config.webauthn.rpId)) return { ok: false, reason: 'wrong_rp_id' };
  return { ok: true, challenge: clientData.challenge, challengeHash };
}

const decodeBase64url = (value: unknown): Buffer | null =>
  typeof value === 'string' && /^[A-Za-z0-9_-]*={0,2}$/.test(value) ? Buffer.from(value, 'base64url') : null;

/** The authenticator data inside a registration's attestation object (CBOR), or null. */
async function authenticatorDataOfAttestation(attestationObject: unknown): Promise<Buffer | null> {
  const bytes = decodeBase64url(attestationObject);
  if (!bytes) return null;
  const { decodeAttestationObject } = await webauthnLibrary();
  try {
    const authData = decodeAttestationObject(new Uint8Array(bytes)).get('authData');
    return authData ? Buffer.from(authData) : null;
  } catch {
    return null;
  }
}

/* ------------------------------------------------------------------ registration */

/** Options for navigator.credentials.create(): a new passkey for the signed-in user. */
export async function startPasskeyRegistration(
  deps: AuthDeps,
  user: User,
  session: Session,
  requestOrigin: string | undefined,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  assertPasskeysUsable(deps, requestOrigin);
  const rp = deps.config.webauthn;
  const existing = await deps.store.webauthn.listCredentials(user.id);
  const challenge = await issueChallenge(deps, 'registration', user.id, session.id);
  const { generateRegistrationOptions } = await webauthnLibrary();
  return generateRegistrationOptions({
    rpName: rp.rpName,
    rpID: rp.rpId,
    userName: user.username,
    userDisplayName: user.displayName,
    // The user handle is the user id: stable, and no personal data (WebAuthn §14.6.1).
    userID: new Uint8Array(Buffer.from(user.id, 'utf8')),
    challenge: new Uint8Array(Buffer.from(challenge, 'base64url')),
    timeout: rp.timeoutMs,
    attestationType: 'none',
    // The same authenticator twice is refused by the browser itself.
    excludeCredentials: existing.map((c) => ({ id: c.id, transports: c.transports as AuthenticatorTransport[] })),
    authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
  });
}

/** Checks the authenticator's answer and keeps the new credential under the name the user chose. */
export async function finishPasskeyRegistration(
  deps: AuthDeps,
  user: User,
  session: Session,
  input: { response: PasskeyRegistration; name: string },
  ctx: RequestContext,
): Promise<WebAuthnCredential> {
  const name = normalizeCredentialName(input.name);
  if (name === null) throw new AppError('bad_request', 'Give the passkey a name of 1 to 64 characters.');
  const check = await precheck(
    deps,
    { purpose: 'registration', userId: user.id, boundTo: session.id },
    input.response?.response?.clientDataJSON,
    await authenticatorDataOfAttestation(input.response?.response?.attestationObject),
  );
  if (!check.ok) throw passkeyError(check.reason);

  let verified;
  try {
    const { verifyRegistrationResponse } = await webauthnLibrary();
    verified = await verifyRegistrationResponse({
      response: asLibraryJson<RegistrationResponseJSON>(input.response),
      expectedChallenge: check.challenge,
      expectedOrigin: deps.config.webauthn.origins,
      expectedRPID: deps.config.webauthn.rpId,
      // A second factor: user presence is enough; user verification is recorded when given.
      requireUserVerification: false,
    });
  } catch {
    throw passkeyError('invalid');
  }
  if (!verified.verified) throw passkeyError('invalid');
  const info = verified.registrationInfo;
  const now = deps.clock.now();
  const credential: WebAuthnCredential = {
    id: info.credential.id,
    userId: user.id,
    name,
    publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
    counter: info.credential.counter,
    transports: (input.response.response.transports ?? []).filter((t) => typeof t === 'string').slice(0, 8),
    aaguid: info.aaguid,
    backupEligible: info.credentialDeviceType === 'multiDevice',
    backupState: info.credentialBackedUp,
    createdAt: now,
    lastUsedAt: null,
  };
  // The challenge is spent only now, by a valid answer; a refused answer changes nothing.
  if (!(await deps.store.webauthn.consumeChallenge(check.challengeHash, now))) throw passkeyError('challenge_invalid');
  if (!(await deps.store.webauthn.addCredential(credential))) {
    throw new AppError('conflict', 'This passkey is already registered.');
  }
  await recordEvent(
    deps,
    {
      type: 'factor.webauthn.registered',
      outcome: 'success',
      userId: user.id,
      sessionId: session.id,
      detail: { credential: credential.id.slice(0, 16), aaguid: credential.aaguid, backup_eligible: credential.backupEligible },
    },
    ctx,
  );
  return credential;
}

/* ------------------------------------------------------------------ assertion */

/** Options for navigator.credentials.get(): any of the user's passkeys, for a sign-in or a step-up. */
export async function startPasskeyAssertion(
  deps: AuthDeps,
  user: User,
  binding: { purpose: 'sign_in' | 'step_up'; boundTo: string },
  requestOrigin: string | undefined,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  assertPasskeysUsable(deps, requestOrigin);
  const credentials = await deps.store.webauthn.listCredentials(user.id);
  if (credentials.length === 0) throw new AppError('method_not_available', 'No passkey is set up for this account.');
  const challenge = await issueChallenge(deps, binding.purpose, user.id, binding.boundTo);
  const { generateAuthenticationOptions } = await webauthnLibrary();
  return generateAuthenticationOptions({
    rpID: deps.config.webauthn.rpId,
    challenge: new Uint8Array(Buffer.from(challenge, 'base64url')),
    timeout: deps.config.webauthn.timeoutMs,
    allowCredentials: credentials.map((c) => ({ id: c.id, transports: c.transports as AuthenticatorTransport[] })),
    userVerification: 'preferred',
  });
}

/**
 * Verifies a passkey assertion for a user: challenge, origin, RP ID, signature, then the signature
 * counter. A counter that did not grow refuses the assertion and is recorded as a suspected clone.
 * Only a fully valid answer writes anything (spends the challenge, stores the new counter).
 */
export async function verifyPasskeyAssertion(
  deps: AuthDeps,
  user: User,
  binding: { purpose: 'sign_in' | 'step_up'; boundTo: string },
  response: PasskeyAssertion,
  ctx: RequestContext,
): Promise<PasskeyCheck> {
  const authenticatorData = decodeBase64url(response?.response?.authenticatorData);
  if (!authenticatorData || typeof response?.id !== 'string') return { ok: false, reason: 'malformed' };
  const check = await precheck(deps, { ...binding, userId: user.id }, response.response.clientDataJSON, authenticatorData);
  if (!check.ok) return check;

  const credential = await deps.store.webauthn.findCredential(response.id);
  // Another user's credential is as unknown as a made-up one.
  if (!credential || credential.userId !== user.id) return { ok: false, reason: 'unknown_credential' };

  let verified;
  try {
    const { verifyAuthenticationResponse } = await webauthnLibrary();
    verified = await verifyAuthenticationResponse({
      response: asLibraryJson<AuthenticationResponseJSON>(response),
      expectedChallenge: check.challenge,
      expectedOrigin: deps.config.webauthn.origins,
      expectedRPID: deps.config.webauthn.rpId,
      // The counter rule is ours (checkSignatureCounter), so a regression is told apart from a bad signature.
      credential: {
        id: credential.id,
        publicKey: new Uint8Array(Buffer.from(credential.publicKey, 'base64url')),
        counter: 0,
        transports: credential.transports as AuthenticatorTransport[],
      },
      requireUserVerification: false,
    });
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  if (!verified.verified) return { ok: false, reason: 'invalid' };
  const info = verified.authenticationInfo;

  const counter = checkSignatureCounter(credential.counter, info.newCounter);
  if (!counter.ok) {
    await recordEvent(
      deps,
      {
        type: 'webauthn.clone_suspected',
        outcome: 'failure',
        userId: user.id,
        reason: 'counter_regressed',
        detail: { credential: credential.id.slice(0, 16), name: credential.name, stored: counter.stored, received: counter.received },
      },
      ctx,
    );
    return { ok: false, reason: 'clone_suspected' };
  }

  const now = deps.clock.now();
  if (!(await deps.store.webauthn.consumeChallenge(check.challengeHash, now))) return { ok: false, reason: 'challenge_invalid' };
  // Conditional on the counter read above: of two answers racing with one counter value, one wins.
  if (
    !(await deps.store.webauthn.recordUse(credential.id, credential.counter, {
      counter: counter.next,
      backupState: info.credentialBackedUp,
      at: now,
    }))
  ) {
    return { ok: false, reason: 'clone_suspected' };
  }
  return {
    ok: true,
    credentialId: credential.id,
    userVerified: info.userVerified,
    factors: factorsOfAssertion({ userVerified: info.userVerified }, deps.config.webauthn),
  };
}

/** The refusal a client sees for each reason: clear, and the same words for the API and the pages. */
export function passkeyError(reason: PasskeyRefusal, detail?: Record<string, unknown>): AppError {
  const extra = detail ? { detail } : {};
  switch (reason) {
    case 'challenge_invalid':
      return new AppError('passkey_challenge_invalid', 'This passkey request expired or was already answered. Try again.', extra);
    case 'unknown_credential':
      return new AppError('passkey_unknown', 'That passkey is not registered for this account.', extra);
    case 'clone_suspected':
      return new AppError(
        'passkey_clone_suspected',
        'That passkey was refused: its signature counter went backwards, a sign that the key was copied. Use another factor and remove this passkey.',
        extra,
      );
    case 'wrong_origin':
      return new AppError('passkey_invalid', "The passkey answered for a page outside twofold's configured origins (webauthn.origins).", {
        detail: { ...detail, reason },
      });
    case 'wrong_rp_id':
      return new AppError('passkey_invalid', 'The passkey answered for another site (its RP ID is not ours).', {
        detail: { ...detail, reason },
      });
    case 'malformed':
      return new AppError('bad_request', 'That is not a WebAuthn response.', extra);
    case 'invalid':
      return new AppError('passkey_invalid', 'The passkey could not be verified.', extra);
  }
}

/* ------------------------------------------------------------------ management */

export const listPasskeys = (deps: AuthDeps, userId: UserId): Promise<WebAuthnCredential[]> => deps.store.webauthn.listCredentials(userId);

export async function renamePasskey(
  deps: AuthDeps,
  user: User,
  session: Session,
  id: string,
  rawName: string,
  ctx: RequestContext,
): Promise<void> {
  const name = normalizeCredentialName(rawName);
  if (name === null) throw new AppError('bad_request', 'Give the passkey a name of 1 to 64 characters.');
  if (!(await deps.store.webauthn.renameCredential(user.id, id, name))) throw new AppError('not_found', 'No such passkey.');
  await recordEvent(
    deps,
    { type: 'factor.webauthn.renamed', outcome: 'success', userId: user.id, sessionId: session.id, detail: { name } },
    ctx,
  );
}

/**
 * Removes a passkey. The caller has checked freshness (a recent factor for a user's own key, an
 * administrator for someone else's). Removing the last second factor of a user is allowed: the next
 * sign-in then asks them to enroll one when two factors are required.
 */
export async function removePasskey(
  deps: AuthDeps,
  owner: UserId,
  id: string,
  by: { userId: UserId; sessionId: Session['id']; admin: boolean },
  ctx: RequestContext,
): Promise<void> {
  const credential = await deps.store.webauthn.findCredential(id);
  if (!credential || credential.userId !== owner || !(await deps.store.webauthn.removeCredential(owner, id))) {
    throw new AppError('not_found', 'No such passkey.');
  }
  await recordEvent(
    deps,
    {
      type: 'factor.webauthn.removed',
      outcome: 'success',
      userId: owner,
      sessionId: by.sessionId,
      reason: by.admin && by.userId !== owner ? 'removed_by_admin' : 'removed_by_user',
      detail: { name: credential.name, by: by.userId },
    },
    ctx,
  );
}
