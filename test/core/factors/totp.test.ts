import { URI } from 'otpauth';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TOTP_PARAMS,
  decodeBase32,
  encodeBase32,
  generateTotp,
  generateTotpSecret,
  hotp,
  otpauthUri,
  totpStep,
  verifyTotp,
  type TotpAlgorithm,
  type TotpParams,
} from '../../../src/core/factors/totp.js';

const RFC4226_SECRET = Buffer.from('12345678901234567890', 'ascii');

describe('hotp', () => {
  it('matches RFC 4226 Appendix D', () => {
    const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
    expected.forEach((code, counter) => {
      expect(hotp(RFC4226_SECRET, counter, { algorithm: 'SHA1', digits: 6 })).toBe(code);
    });
  });

  it('refuses fewer than 6 digits (RFC 4226 §5.3)', () => {
    expect(() => hotp(RFC4226_SECRET, 0, { algorithm: 'SHA1', digits: 4 })).toThrow(RangeError);
  });
});

describe('generateTotp', () => {
  // RFC 6238 Appendix B: each algorithm uses a seed of its own HMAC key size.
  const seeds: Record<TotpAlgorithm, Buffer> = {
    SHA1: Buffer.from('12345678901234567890', 'ascii'),
    SHA256: Buffer.from('12345678901234567890123456789012', 'ascii'),
    SHA512: Buffer.from('1234567890'.repeat(6) + '1234', 'ascii'),
  };
  const rows: Array<[number, TotpAlgorithm, string]> = [
    [59, 'SHA1', '94287082'],
    [59, 'SHA256', '46119246'],
    [59, 'SHA512', '90693936'],
    [1111111109, 'SHA1', '07081804'],
    [1111111109, 'SHA256', '68084774'],
    [1111111109, 'SHA512', '25091201'],
    [1111111111, 'SHA1', '14050471'],
    [1111111111, 'SHA256', '67062674'],
    [1111111111, 'SHA512', '99943326'],
    [1234567890, 'SHA1', '89005924'],
    [1234567890, 'SHA256', '91819424'],
    [1234567890, 'SHA512', '93441116'],
    [2000000000, 'SHA1', '69279037'],
    [2000000000, 'SHA256', '90698825'],
    [2000000000, 'SHA512', '38618901'],
    [20000000000, 'SHA1', '65353130'],
    [20000000000, 'SHA256', '77737706'],
    [20000000000, 'SHA512', '47863826'],
  ];

  it('uses the 20-, 32- and 64-byte seeds', () => {
    expect([seeds.SHA1.length, seeds.SHA256.length, seeds.SHA512.length]).toEqual([20, 32, 64]);
  });

  it.each(rows)('matches RFC 6238 Appendix B at T=%i with %s', (seconds, algorithm, code) => {
    expect(generateTotp(seeds[algorithm], seconds * 1000, { algorithm, digits: 8, period: 30 })).toBe(code);
  });

  it('computes the step with T0 = 0', () => {
    expect(totpStep(59_000, 30)).toBe(1);
    expect(totpStep(59_999, 60)).toBe(0);
    expect(totpStep(1111111109_000, 30)).toBe(0x23523ec);
  });
});

describe('verifyTotp', () => {
  const secret = Buffer.from('12345678901234567890', 'ascii');
  const params: TotpParams = DEFAULT_TOTP_PARAMS;
  const now = Date.UTC(2026, 0, 1, 12, 0, 10);
  const current = totpStep(now, params.period);
  const codeAt = (step: number) => hotp(secret, step, params);
  const verify = (code: string, lastUsedStep: number | null = null, nowMs = now) =>
    verifyTotp({ secret, code, nowMs, params, window: 1, lastUsedStep });

  it('accepts the current step and one step either side', () => {
    expect(verify(codeAt(current))).toEqual({ ok: true, step: current });
    expect(verify(codeAt(current - 1))).toEqual({ ok: true, step: current - 1 });
    expect(verify(codeAt(current + 1))).toEqual({ ok: true, step: current + 1 });
  });

  it('refuses codes two steps away', () => {
    expect(verify(codeAt(current - 2))).toEqual({ ok: false, reason: 'invalid' });
    expect(verify(codeAt(current + 2))).toEqual({ ok: false, reason: 'invalid' });
  });

  it('refuses a wrong code', () => {
    const wrong = codeAt(current) === '000000' ? '000001' : '000000';
    expect(verify(wrong)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('tolerates spaces in the code', () => {
    const code = codeAt(current);
    expect(verify(` ${code.slice(0, 3)} ${code.slice(3)} `)).toEqual({ ok: true, step: current });
  });

  it('refuses the same step twice', () => {
    const first = verify(codeAt(current));
    expect(first).toEqual({ ok: true, step: current });
    expect(verify(codeAt(current), current)).toEqual({ ok: false, reason: 'replayed' });
  });

  it('refuses an older step after a newer one was used', () => {
    expect(verify(codeAt(current - 1), current)).toEqual({ ok: false, reason: 'replayed' });
  });

  it('accepts a later step after an earlier one was used', () => {
    expect(verify(codeAt(current + 1), current)).toEqual({ ok: true, step: current + 1 });
  });

  it.each(['', '12345', '1234567', '12345a', '12-345', '１２３４５６'])('calls %j malformed', (code) => {
    expect(verify(code)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('ignores negative steps near the epoch', () => {
    expect(verifyTotp({ secret, code: hotp(secret, 0, params), nowMs: 0, params, window: 1, lastUsedStep: null })).toEqual({
      ok: true,
      step: 0,
    });
  });
});

describe('secrets and base32', () => {
  it('generates 160-bit secrets from the injected random source', () => {
    const secret = generateTotpSecret((size) => Buffer.alloc(size, 7));
    expect(secret).toEqual(Buffer.alloc(20, 7));
  });

  it('encodes RFC 4648 §10 vectors without padding', () => {
    const vectors: Array<[string, string]> = [
      ['', ''],
      ['f', 'MY'],
      ['fo', 'MZXQ'],
      ['foo', 'MZXW6'],
      ['foob', 'MZXW6YQ'],
      ['fooba', 'MZXW6YTB'],
      ['foobar', 'MZXW6YTBOI'],
    ];
    for (const [plain, encoded] of vectors) {
      expect(encodeBase32(Buffer.from(plain))).toBe(encoded);
      expect(decodeBase32(encoded).toString()).toBe(plain);
    }
  });

  it('round-trips random secrets', () => {
    for (let size = 0; size <= 40; size++) {
      const bytes = Buffer.from(Array.from({ length: size }, (_, i) => (i * 37 + size) & 0xff));
      expect(decodeBase32(encodeBase32(bytes))).toEqual(bytes);
    }
  });

  it('decodes spaced, lower-case and padded input', () => {
    expect(decodeBase32('mzxw 6ytb oi======').toString()).toBe('foobar');
  });

  it('throws on characters outside the alphabet', () => {
    expect(() => decodeBase32('MZXW1YTB')).toThrow('invalid base32 character');
    expect(() => decodeBase32('MZXW8YTB')).toThrow();
  });
});

describe('otpauthUri', () => {
  const secret = Buffer.from('12345678901234567890', 'ascii');

  it('follows the Key Uri Format', () => {
    const uri = otpauthUri({ issuer: 'Twofold', account: 'alice', secret, params: DEFAULT_TOTP_PARAMS });
    expect(uri).toBe(`otpauth://totp/Twofold:alice?secret=${encodeBase32(secret)}&issuer=Twofold&algorithm=SHA1&digits=6&period=30`);
  });

  it('parses back with otpauth, special characters included', () => {
    const uri = otpauthUri({
      issuer: 'Acme & Co ö',
      account: 'al+ice@example.com?x=1',
      secret,
      params: { algorithm: 'SHA256', digits: 8, period: 60 },
    });
    const parsed = URI.parse(uri);
    expect(parsed.issuer).toBe('Acme & Co ö');
    expect(parsed.label).toBe('al+ice@example.com?x=1');
    expect(parsed.algorithm).toBe('SHA256');
    expect(parsed.digits).toBe(8);
    expect('period' in parsed && parsed.period).toBe(60);
    expect(Buffer.from(parsed.secret.bytes)).toEqual(secret);
  });

  it('refuses a colon in the issuer', () => {
    expect(() => otpauthUri({ issuer: 'a:b', account: 'x', secret, params: DEFAULT_TOTP_PARAMS })).toThrow();
  });
});
