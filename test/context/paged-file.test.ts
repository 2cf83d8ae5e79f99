import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Reader } from 'maxmind';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinCityDatabases } from '../../src/context/geoip.js';
import { pagedFile } from '../../src/context/paged-file.js';

/** Deterministic pseudo-random numbers (mulberry32), so a failure names addresses that reproduce. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

describe('pagedFile: a file read on demand, seen as a Buffer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'twofold-paged-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const bytes = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 7919) % 251));
  const path = join(dir, 'bytes.bin');
  writeFileSync(path, bytes);

  it('answers bytes, length and the reads mmdb-lib makes exactly as the Buffer would, across page edges', () => {
    // Small pages and a small cache, so reads straddle pages and pages are dropped and read again.
    const paged = pagedFile(path, { pageSize: 64, maxPages: 3 });
    expect(Buffer.isBuffer(paged)).toBe(true);
    expect(paged.length).toBe(bytes.length);
    for (const i of [0, 1, 63, 64, 65, 5000, 9999]) expect(paged[i]).toBe(bytes[i]);
    expect(paged[10_000]).toBeUndefined();
    expect(paged[-1]).toBeUndefined();
    for (const offset of [0, 61, 62, 63, 64, 127, 9992]) {
      expect(paged.readUInt8(offset)).toBe(bytes.readUInt8(offset));
      expect(paged.readUInt16BE(offset)).toBe(bytes.readUInt16BE(offset));
      expect(paged.readUInt32BE(offset)).toBe(bytes.readUInt32BE(offset));
      expect(paged.readInt32BE(offset)).toBe(bytes.readInt32BE(offset));
      expect(paged.readUIntBE(offset, 3)).toBe(bytes.readUIntBE(offset, 3));
      expect(paged.readFloatBE(offset)).toBe(bytes.readFloatBE(offset));
      expect(paged.readDoubleBE(offset)).toBe(bytes.readDoubleBE(offset));
    }
    expect(paged.subarray(60, 200).equals(bytes.subarray(60, 200))).toBe(true);
    expect(paged.slice(-20).equals(bytes.slice(-20))).toBe(true);
    expect(paged.toString('hex', 100, 300)).toBe(bytes.toString('hex', 100, 300));
  });

  it('refuses reads outside the file, writes, and what it does not implement, with the reason', () => {
    const paged = pagedFile(path);
    expect(() => paged.readUInt32BE(9998)).toThrow(RangeError);
    expect(() => paged.readUInt16BE(-1)).toThrow(/outside the file/);
    expect(() => {
      (paged as unknown as number[])[0] = 1;
    }).toThrow(/read-only/);
    expect(() => paged.readBigUInt64BE(0)).toThrow(/does not answer \.readBigUInt64BE/);
    expect(() => paged.constructor).toThrow(/does not answer \.constructor/);
  });

  it('names the file when it cannot be opened', () => {
    expect(() => pagedFile(join(dir, 'missing.mmdb'))).toThrow(/missing\.mmdb/);
  });
});

describe('the built-in city databases read paged give the same records as read whole', () => {
  const files = builtinCityDatabases();
  // Read whole here only to compare: the server never does.
  const cases: Array<{ file: string; address: (next: () => number) => string }> = [
    { file: files.ipv4, address: (next) => Array.from({ length: 4 }, () => Math.floor(next() * 256)).join('.') },
    {
      file: files.ipv6,
      // Mostly global unicast (2000::/3), where the records are.
      address: (next) =>
        [0x2000 + Math.floor(next() * 0x2000), ...Array.from({ length: 7 }, () => Math.floor(next() * 0x10000))]
          .map((n) => n.toString(16))
          .join(':'),
    },
  ];

  for (const { file, address } of cases) {
    it(`${file.endsWith('ipv6.mmdb') ? 'IPv6' : 'IPv4'}: 3,000 random addresses`, () => {
      const whole = new Reader<any>(readFileSync(file));
      const paged = new Reader<any>(pagedFile(file, { pageSize: 4096, maxPages: 64 }));
      expect(paged.metadata).toEqual(whole.metadata);
      const next = random(20261207);
      let found = 0;
      for (let i = 0; i < 3000; i++) {
        const ip = address(next);
        const expected = whole.getWithPrefixLength(ip);
        expect(paged.getWithPrefixLength(ip), ip).toEqual(expected);
        if (expected[0]) found++;
      }
      // The comparison means something only if most addresses have a record.
      expect(found).toBeGreaterThan(1500);
    });
  }
});

describe('GeoIp over the paged built-in files', () => {
  it('answers an address the same way again, from its recent answers, and hands out copies', async () => {
    const { GeoIp } = await import('../../src/context/geoip.js');
    const geo = await GeoIp.open({ cityDb: 'builtin', asnDb: null });
    const first = geo.lookup('81.2.69.142');
    expect(first.country).toMatch(/^[A-Z]{2}$/);
    expect(typeof first.latitude).toBe('number');
    first.country = 'changed by a caller';
    expect(geo.lookup('81.2.69.142')).toEqual({ ...first, country: geo.lookup('81.2.69.142').country });
    expect(geo.lookup('81.2.69.142').country).not.toBe('changed by a caller');
    expect(geo.lookup('2001:4860:4860::8888').country).toMatch(/^[A-Z]{2}$/);
    expect(geo.lookup('not an address')).toEqual({ asn: '', org: '', country: '', region: '', city: '' });
  });
});
