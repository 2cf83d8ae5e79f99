import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { requestIds } from '../../src/http/request-id.js';

/** RFC 9562: version 8 (custom layout) in the 13th digit, variant 10 in the top bits of the 17th. */
const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request ids', () => {
  it('are UUIDs (version 8), all different, counting up under one random prefix', () => {
    const next = requestIds();
    const ids = Array.from({ length: 10_000 }, next);
    for (const id of ids) expect(id).toMatch(UUID_V8);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids[0]!.slice(0, 24)).toBe(ids[9_999]!.slice(0, 24));
    expect(ids.slice(0, 3).map((id) => id.slice(24))).toEqual(['000000000000', '000000000001', '000000000002']);
  });

  it('keep the version and variant whatever the random bits are', () => {
    expect(requestIds((size) => Buffer.alloc(size, 0xff))()).toBe('ffffffff-ffff-8fff-bfff-000000000000');
    expect(requestIds((size) => Buffer.alloc(size, 0x00))()).toBe('00000000-0000-8000-8000-000000000000');
  });

  it('differ between processes by their random prefix (74 bits)', () => {
    const prefixes = new Set(Array.from({ length: 1000 }, () => requestIds((size) => randomBytes(size))().slice(0, 24)));
    expect(prefixes.size).toBe(1000);
  });
});
