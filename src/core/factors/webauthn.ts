/**
 * WebAuthn (passkeys and security keys): the decisions that need no cryptography and no I/O. The
 * ceremonies themselves (signature, attestation, client data) are verified by @simplewebauthn/server
 * in src/auth/webauthn.ts; what to accept is decided here.
 */

/** WebAuthn §13.4.3: challenges must hold at least 16 random bytes; we take 32. */
export const CHALLENGE_BYTES = 32;
export const MIN_CHALLENGE_BYTES = 16;

/** What a challenge was issued for; a challenge answers only the ceremony it was made for. */
export type CeremonyPurpose = 'registration' | 'sign_in' | 'step_up';

/** A challenge as kept server-side: only its SHA-256, the ceremony, and who it is bound to. */
export interface StoredChallenge {
  purpose: CeremonyPurpose;
  userId: string;
  /** The pending sign-in (sign_in) or the session (registration, step_up) that asked for it. */
  boundTo: string;
  expiresAt: number;
  usedAt: number | null;
}

export type ChallengeRefusal = 'unknown' | 'used' | 'expired' | 'wrong_ceremony';

/**
 * A challenge is good once, for the ceremony and the pending sign-in or session it was issued to,
 * until the ceremony's timeout (WebAuthn §13.4.3: single use, bound to the request, short-lived).
 */
export function judgeChallenge(
  stored: StoredChallenge | undefined,
  expected: { purpose: CeremonyPurpose; userId: string; boundTo: string; now: number },
): { ok: true } | { ok: false; reason: ChallengeRefusal } {
  if (!stored) return { ok: false, reason: 'unknown' };
  if (stored.purpose !== expected.purpose || stored.userId !== expected.userId || stored.boundTo !== expected.boundTo) {
    return { ok: false, reason: 'wrong_ceremony' };
  }
  if (stored.usedAt !== null) return { ok: false, reason: 'used' };
  if (expected.now >= stored.expiresAt) return { ok: false, reason: 'expired' };
  return { ok: true };
}

/** Base64url of at least 16 bytes and no more than 64: anything else was not issued by us. */
export function looksLikeChallenge(challenge: string): boolean {
  if (!/^[A-Za-z0-9_-]+$/.test(challenge)) return false;
  const bytes = Math.floor((challenge.length * 3) / 4);
  return bytes >= MIN_CHALLENGE_BYTES && bytes <= 64;
}

export type CounterVerdict = { ok: true; next: number } | { ok: false; reason: 'counter_regressed'; stored: number; received: number };

/**
 * WebAuthn §7.2 step 21: when either the stored or the received signature counter is non-zero, the
 * received one must be greater. A counter that does not grow means two authenticators hold the same
 * private key: a cloned key. Authenticators that keep no counter (passkeys synced between devices)
 * report 0 every time, which is accepted.
 */
export function checkSignatureCounter(stored: number, received: number): CounterVerdict {
  if (stored === 0 && received === 0) return { ok: true, next: 0 };
  if (received > stored) return { ok: true, next: received };
  return { ok: false, reason: 'counter_regressed', stored, received };
}

export interface PasskeyPolicy {
  /** Whether an assertion with user verification (PIN or biometric on the authenticator) counts as two factors. */
  uvCountsAsTwoFactors: boolean;
}

/**
 * NIST 800-63B §5.1.9: a multi-factor cryptographic authenticator (the device key, unlocked by a PIN
 * or biometric it verifies itself) is two factors in one. A passkey assertion counts as two only when
 * the authenticator says it verified the user (the UV flag) and the operator's policy accepts that;
 * otherwise it is one factor, something the user has.
 */
export function factorsOfAssertion(assertion: { userVerified: boolean }, policy: PasskeyPolicy): 1 | 2 {
  return assertion.userVerified && policy.uvCountsAsTwoFactors ? 2 : 1;
}

/**
 * WebAuthn §5.1.3 / HTML "registrable domain suffix": an origin may use an RP ID equal to its host
 * or a parent domain of it. IP addresses cannot be RP IDs at all.
 */
export function originFitsRpId(origin: string, rpId: string): boolean {
  let host: string;
  try {
    host = new URL(origin).hostname.toLowerCase();
  } catch {
    return false;
  }
  const rp = rpId.toLowerCase();
  return host === rp || host.endsWith(`.${rp}`);
}

export const isIpAddress = (host: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':') || host.startsWith('[');

/** A name the user gives a credential: trimmed, 1 to 64 printable characters. */
export function normalizeCredentialName(name: string): string | null {
  // eslint-disable-next-line no-control-regex
  const trimmed = name.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  if (trimmed.length === 0 || trimmed.length > 64) return null;
  return trimmed;
}

/** The relying party as configured: who passkeys are made for and which pages may use them. */
export interface RelyingParty {
  rpId: string;
  rpName: string;
  origins: string[];
  timeoutMs: number;
  uvCountsAsTwoFactors: boolean;
  /** Why passkeys cannot work with this configuration (an IP address as RP ID), or null. */
  unavailableReason: string | null;
}

/**
 * Derives the relying party from the webauthn settings and public_url. An explicit rp_id or origin
 * that cannot work is a configuration error; the default RP ID of an IP-address public_url (the
 * development default 127.0.0.1) leaves passkeys unavailable, with the reason, rather than failing
 * everything else.
 */
export function relyingParty(
  raw: { rpId: string; rpName: string; origins: string[]; timeoutMs: number; uvCountsAsTwoFactors: boolean },
  publicUrl: URL | undefined,
  problems: string[],
): RelyingParty {
  const defaultHost = publicUrl?.hostname.replace(/^\[|\]$/g, '') ?? '';
  const rpId = (raw.rpId || defaultHost).toLowerCase();
  const origins: string[] = [];
  for (const origin of raw.origins.length ? raw.origins : publicUrl ? [publicUrl.origin] : []) {
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      problems.push(`webauthn.origins: "${origin}" is not a URL`);
      continue;
    }
    if (parsed.origin !== origin.replace(/\/$/, ''))
      problems.push(`webauthn.origins: "${origin}" must be an origin only (scheme, host, port)`);
    origins.push(parsed.origin);
  }
  let unavailableReason: string | null = null;
  if (isIpAddress(rpId)) {
    const reason = `the RP ID "${rpId}" is an IP address, which browsers refuse for passkeys; open twofold by a host name (e.g. public_url: http://localhost:PORT) or set webauthn.rp_id`;
    if (raw.rpId) problems.push(`webauthn.rp_id: ${reason}`);
    else unavailableReason = reason;
  } else {
    for (const origin of origins) {
      if (!originFitsRpId(origin, rpId)) {
        problems.push(`webauthn.origins: ${origin} is not within the RP ID "${rpId}" (its host must be ${rpId} or a sub-domain of it)`);
      }
    }
  }
  return { rpId, rpName: raw.rpName, origins, timeoutMs: raw.timeoutMs, uvCountsAsTwoFactors: raw.uvCountsAsTwoFactors, unavailableReason };
}
