import { describe, expect, it } from 'vitest';
import { BAD_URI_CHARS, forwardedRequest, HOST, parsedUrl, plainUrl, splitOriginalUrl } from '../../src/http/forwarded-request.js';

/**
 * The gate reads a plain original URL without the URL parser (src/http/forwarded-request.ts,
 * plainUrl). Whatever it accepts must read exactly as the parser reads it: same hostname, same
 * pathname (the path access rules judge), same string (the way back after sign-in). Checked on
 * tricky hand-picked input and on generated input over an alphabet of the characters that matter.
 */
const same = (proto: string, host: string, uri: string): void => {
  const plain = plainUrl(proto, host, uri);
  if (plain === null) return;
  const parsed = parsedUrl(proto, host, uri);
  expect(parsed, `${proto}://${host}${uri}`).not.toBeNull();
  expect({ hostname: plain.hostname, pathname: plain.pathname, href: plain.toString() }, `${proto}://${host}${uri}`).toEqual({
    hostname: parsed!.hostname,
    pathname: parsed!.pathname,
    href: parsed!.toString(),
  });
};

/** A small seeded generator (mulberry32), so a failure names input that can be replayed. */
function generator(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('plain original URLs, read without the URL parser', () => {
  it('reads the common case as the parser does, and leaves the rest to it', () => {
    const plain = plainUrl('https', 'App.Example.com', '/Reports/2026?page=2&sort=-date');
    expect(plain?.hostname).toBe('app.example.com');
    expect(plain?.pathname).toBe('/Reports/2026');
    expect(plain?.toString()).toBe('https://app.example.com/Reports/2026?page=2&sort=-date');
    same('https', 'App.Example.com', '/Reports/2026?page=2&sort=-date');
    // What the parser changes, or may refuse, is not plain.
    for (const [host, uri] of [
      ['127.1', '/'], // an IPv4 address in short form
      ['0x7f.1', '/'],
      ['10.0.0.1', '/'],
      ['app.example.com.', '/'], // a trailing dot
      ['xn--nxasmq6b.example', '/'], // punycode
      ['a.XN--zz', '/'],
      ['app.example.com:8443', '/'], // a port
      ['app', '/a/./b'], // dot segments
      ['app', '/a/../b'],
      ['app', '/a/..'],
      ['app', '/.?x'],
      ['app', '/%61dmin'], // an escape
      ['app', "/a?it's"], // a quote the parser encodes in a query
      ['app', '/a"b'],
      ['app', '/a{b}'],
      ['app', '/a`b'],
      ['app', '/a^b'],
      ['app', '/a|b'],
      ['app', '/a[b]'],
    ]) {
      expect(plainUrl('https', host!, uri!), `${host}${uri}`).toBeNull();
      same('https', host!, uri!);
    }
  });

  it('reads 200,000 generated URLs as the parser does whenever it takes them', () => {
    const random = generator(20261207);
    const pick = (alphabet: string, max: number) => {
      let out = '';
      for (let n = 1 + Math.floor(random() * max); n > 0; n--) out += alphabet[Math.floor(random() * alphabet.length)];
      return out;
    };
    // Letters weigh more, so that many generated URLs are plain and get compared.
    const hosts = 'abcdefgxnAZ019-_.:8abcdefg.';
    const targets = '/./%2eEa?&=\'"<>`{}|^[]@:;,+*!$()~_-#\\ abcdefgh/abcdefgh/';
    let plain = 0;
    for (let i = 0; i < 200_000; i++) {
      const proto = random() < 0.5 ? 'http' : 'https';
      const host = pick(hosts, 12);
      const uri = `/${pick(targets, 16)}`;
      if (plainUrl(proto, host, uri) !== null) {
        plain++;
        // Why the gate asks HOST and BAD_URI_CHARS only of what is not plain: a plain URL passes both.
        expect(HOST.test(host), host).toBe(true);
        expect(BAD_URI_CHARS.test(uri), uri).toBe(false);
      }
      same(proto, host, uri);
    }
    // The generator must reach the plain path often enough for the comparison to mean something.
    expect(plain).toBeGreaterThan(10_000);
  });

  it('is what the gate reads from X-Original-URL', () => {
    const read = forwardedRequest({ method: 'GET', headers: { 'x-original-url': 'https://App.example.com/x?y=1' } }, 'original');
    expect(read?.url.hostname).toBe('app.example.com');
    expect(read?.url.pathname).toBe('/x');
    expect(read?.url.toString()).toBe('https://app.example.com/x?y=1');
  });

  it('splits X-Original-URL as the regular expression it replaced does, on 100,000 generated strings', () => {
    const random = generator(20261208);
    const pick = (alphabet: string, max: number) => {
      let out = '';
      for (let n = Math.floor(random() * max); n > 0; n--) out += alphabet[Math.floor(random() * alphabet.length)];
      return out;
    };
    const byRegex = (original: string) => {
      const parts = /^(https?):\/\/([^/]*)(\/.*)?$/is.exec(original);
      return parts ? [parts[1]!.toLowerCase(), parts[2]!, parts[3] ?? '/'] : null;
    };
    const schemes = ['http', 'https', 'HTTP', 'hTtPs', 'ftp', 'httpss', 'xhttp', 'http:', 'https:/', ''];
    let split = 0;
    for (let i = 0; i < 100_000; i++) {
      const original = `${schemes[Math.floor(random() * schemes.length)]}${pick(':/', 4)}${pick('ab:/?#@.\n\\ %', 10)}`;
      const mine = splitOriginalUrl(original);
      if (mine !== null) split++;
      expect(mine, JSON.stringify(original)).toEqual(byRegex(original));
    }
    expect(split).toBeGreaterThan(5_000);
  });
});
