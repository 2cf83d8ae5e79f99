import { randomBytes } from 'node:crypto';
import { hash, verify, type Algorithm, type Options } from '@node-rs/argon2';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(storedHash: string, password: string): Promise<boolean>;
  /** Same cost as a real verify, for unknown users: equalises timing (no user enumeration). */
  verifyDummy(password: string): Promise<false>;
}

export interface Argon2Params {
  /** KiB */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** OWASP Password Storage Cheat Sheet, Argon2id minimum: m=19456 KiB (19 MiB), t=2, p=1. */
export const OWASP_ARGON2ID: Argon2Params = Object.freeze({ memoryCost: 19456, timeCost: 2, parallelism: 1 });

// Algorithm is a const enum in the typings but an empty object at runtime under transpilers that
// cannot inline it (vitest/esbuild), so the value is written out.
const ARGON2ID = 2 as Algorithm.Argon2id;

/** Same normalisation as the password policy (NIST 800-63B §3.1.1.2), so composed and decomposed input verify alike. */
function normalize(password: string): string {
  return password.normalize('NFKC');
}

export function createArgon2Hasher(params: Argon2Params = OWASP_ARGON2ID): PasswordHasher {
  const options: Options = { algorithm: ARGON2ID, ...params };
  // Computed up front so the first unknown-user login costs the same as the rest.
  const dummyHash = hash(randomBytes(32).toString('base64'), options);
  dummyHash.catch(() => undefined);

  async function verifyStored(storedHash: string, password: string): Promise<boolean> {
    try {
      return await verify(storedHash, normalize(password));
    } catch {
      // A malformed or foreign stored hash is a failed login, not a server error.
      return false;
    }
  }

  return {
    hash: (password) => hash(normalize(password), options),
    verify: verifyStored,
    async verifyDummy(password) {
      await verifyStored(await dummyHash, password);
      return false;
    },
  };
}
