import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface PagedFileOptions {
  /** Bytes read at a time. */
  pageSize?: number;
  /** Pages kept in memory, least recently used dropped first. */
  maxPages?: number;
}

/**
 * A read-only file seen as a Buffer whose bytes are read from disk when asked for (pread), with a
 * small cache of pages, instead of the whole file read into memory.
 *
 * For the geo databases (geoip.ts): mmdb-lib's Reader wants a Buffer, and the built-in DB-IP city
 * files are 63 MB (IPv4) and 71 MB (IPv6) of which a lookup reads about 35 tree nodes and one
 * record. Read whole they were the largest piece of the server's resident memory; paged, the
 * memory is `pageSize * maxPages` (4 MiB by default) and a lookup costs a few pread()s when its
 * pages are not cached (lookups happen at sign-in and renewal, never on the gate's hot path).
 *
 * What is answered: the byte at an index, `length`, and the Buffer methods mmdb-lib 3 calls
 * (big-endian integer and float reads, `subarray`/`slice` as copies, `toString`). Anything else
 * throws, so a newer mmdb-lib that reads another way fails loudly (test/context/paged-file.test.ts
 * compares whole lookups with the file read into memory). The descriptor stays open for the life
 * of the process, as the file read whole stayed in memory.
 */
export function pagedFile(path: string, options: PagedFileOptions = {}): Buffer {
  const pageSize = options.pageSize ?? 4096;
  const maxPages = options.maxPages ?? 1024;
  const fd = openSync(path, 'r');
  let size: number;
  try {
    size = fstatSync(fd).size;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  const pages = new Map<number, Buffer>();

  const page = (number: number): Buffer => {
    let cached = pages.get(number);
    if (cached !== undefined) {
      // Most recently used last: Map keeps insertion order.
      pages.delete(number);
      pages.set(number, cached);
      return cached;
    }
    const start = number * pageSize;
    cached = Buffer.allocUnsafeSlow(Math.min(pageSize, size - start));
    let read = 0;
    while (read < cached.length) {
      const n = readSync(fd, cached, read, cached.length - read, start + read);
      if (n === 0) throw new Error(`${path}: file shrank while in use`);
      read += n;
    }
    if (pages.size >= maxPages) pages.delete(pages.keys().next().value!);
    pages.set(number, cached);
    return cached;
  };

  const byte = (index: number): number | undefined =>
    Number.isInteger(index) && index >= 0 && index < size ? page(Math.floor(index / pageSize))[index % pageSize] : undefined;

  /** Bytes [start, end) as a Buffer of their own, bounds clamped as Buffer#subarray does. */
  const copy = (start = 0, end = size): Buffer => {
    const from = clamp(start, size);
    const to = Math.max(from, clamp(end, size));
    const out = Buffer.allocUnsafe(to - from);
    for (let at = from; at < to;) {
      const number = Math.floor(at / pageSize);
      const offset = at - number * pageSize;
      const n = page(number).copy(out, at - from, offset, Math.min(pageSize, offset + (to - at)));
      at += n;
    }
    return out;
  };

  /**
   * Where a fixed-width read at `offset` finds its bytes: in the page itself when they lie in one,
   * else in a copy. It must lie wholly inside the file (RangeError otherwise, as a Buffer throws).
   */
  const fixed = (offset: number, width: number): readonly [Buffer, number] => {
    if (!Number.isInteger(offset) || offset < 0 || offset + width > size) {
      throw new RangeError(`${path}: read of ${width} bytes at ${offset} is outside the file (${size} bytes)`);
    }
    const number = Math.floor(offset / pageSize);
    const at = offset - number * pageSize;
    return at + width <= pageSize ? [page(number), at] : [copy(offset, offset + width), 0];
  };

  const read =
    <T>(width: number, decode: (buffer: Buffer, at: number) => T) =>
    (offset: number): T =>
      decode(...fixed(offset, width));

  // A Map, not an object literal: `.constructor` or `.hasOwnProperty` must not answer from Object.prototype.
  const methods = new Map<string, (...args: never[]) => unknown>([
    ['readUInt8', read(1, (buffer, at) => buffer[at])],
    ['readUInt16BE', read(2, (buffer, at) => buffer.readUInt16BE(at))],
    ['readUInt32BE', read(4, (buffer, at) => buffer.readUInt32BE(at))],
    ['readInt32BE', read(4, (buffer, at) => buffer.readInt32BE(at))],
    ['readUIntBE', (offset: number, width: number) => read(width, (buffer, at) => buffer.readUIntBE(at, width))(offset)],
    ['readFloatBE', read(4, (buffer, at) => buffer.readFloatBE(at))],
    ['readDoubleBE', read(8, (buffer, at) => buffer.readDoubleBE(at))],
    ['subarray', (start?: number, end?: number) => copy(start, end)],
    ['slice', (start?: number, end?: number) => copy(start, end)],
    ['toString', (encoding?: BufferEncoding, start?: number, end?: number) => copy(start, end).toString(encoding ?? 'utf8')],
  ]);

  // The target is an empty Buffer so that `instanceof Buffer` (Buffer.isBuffer) holds.
  return new Proxy(Buffer.alloc(0), {
    get(target, key) {
      if (typeof key === 'symbol') return Reflect.get(target, key);
      const first = key.charCodeAt(0);
      // An index (a Buffer answers undefined past its ends, negative ones included).
      if ((first >= 48 && first <= 57) || first === 45) return byte(Number(key));
      if (key === 'length' || key === 'byteLength') return size;
      const method = methods.get(key);
      if (method !== undefined) return method;
      throw new Error(`${path}: paged file does not answer .${key}`);
    },
    set() {
      throw new Error(`${path}: paged file is read-only`);
    },
  });
}

const clamp = (value: number, size: number): number => {
  const n = Math.trunc(Number(value)) || 0;
  return n < 0 ? Math.max(0, size + n) : Math.min(n, size);
};
