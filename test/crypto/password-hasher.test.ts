import { describe, expect, it } from 'vitest';
import { OWASP_ARGON2ID, createArgon2Hasher } from '../../src/crypto/password-hasher.js';

const hasher = createArgon2Hasher();

describe('createArgon2Hasher', () => {
  it('round-trips a password', async () => {
    const stored = await hasher.hash('correct horse battery staple');
    expect(await hasher.verify(stored, 'correct horse battery staple')).toBe(true);
  });

  it('refuses a wrong password', async () => {
    const stored = await hasher.hash('correct horse battery staple');
    expect(await hasher.verify(stored, 'correct horse battery stapler')).toBe(false);
  });

  it('verifies the password exactly as typed: no truncation, no case folding, long passwords whole (ASVS V6.2.8)', async () => {
    const long = `${'a long passphrase, '.repeat(60)}end`; // over 1,000 characters
    const stored = await hasher.hash(long);
    expect(await hasher.verify(stored, long)).toBe(true);
    for (const other of [long.slice(0, -1), long.slice(0, 64), long.toUpperCase(), `${long} `, long.replace('end', 'End')]) {
      expect(await hasher.verify(stored, other)).toBe(false);
    }
  });

  it.each(['', 'plaintext', '$argon2id$v=19$m=19456,t=2,p=1$abc', '$2b$10$abcdefghijklmnopqrstuv'])(
    'returns false for the malformed stored hash %j',
    async (stored) => {
      expect(await hasher.verify(stored, 'anything')).toBe(false);
    },
  );

  it('uses Argon2id with the OWASP parameters', async () => {
    expect(OWASP_ARGON2ID).toEqual({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
    const stored = await hasher.hash('pw');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });

  it('salts each hash', async () => {
    expect(await hasher.hash('same')).not.toBe(await hasher.hash('same'));
  });

  it('normalises to NFKC, as the password policy does', async () => {
    const stored = await hasher.hash('cafe\u0301-password');
    expect(await hasher.verify(stored, 'caf\u00e9-password')).toBe(true);
  });

  it('honours custom parameters', async () => {
    const cheap = createArgon2Hasher({ memoryCost: 8192, timeCost: 1, parallelism: 1 });
    const stored = await cheap.hash('pw');
    expect(stored).toMatch(/m=8192,t=1,p=1/);
    expect(await cheap.verify(stored, 'pw')).toBe(true);
  });

  it('verifyDummy resolves false in about the time of a real verify', async () => {
    const stored = await hasher.hash('correct horse battery staple');
    await hasher.verify(stored, 'warm-up');
    expect(await hasher.verifyDummy('warm-up')).toBe(false);

    // Interleaved and compared by medians, so a burst of load from other processes on this shared
    // machine lands on both sides rather than skewing one (a timing check, not a benchmark).
    const time = async (run: () => Promise<unknown>) => {
      const start = performance.now();
      await run();
      return performance.now() - start;
    };
    const reals: number[] = [];
    const dummies: number[] = [];
    for (let i = 0; i < 9; i++) {
      reals.push(await time(() => hasher.verify(stored, 'guess')));
      dummies.push(await time(() => hasher.verifyDummy('guess')));
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const real = median(reals);
    const dummy = median(dummies);
    expect(dummy).toBeLessThan(real * 3);
    expect(real).toBeLessThan(dummy * 3);
  });
});
