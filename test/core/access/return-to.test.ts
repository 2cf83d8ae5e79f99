import { describe, expect, it } from 'vitest';
import { safeReturnTo, type ReturnToRules } from '../../../src/core/access/return-to.js';

const rules: ReturnToRules = {
  domains: ['*.example.com', 'example.com'],
  allowHttp: false,
  portal: new URL('https://auth.example.com/login'),
};

describe('return addresses (no open redirect)', () => {
  it.each([
    ['https://app.example.com/page?x=1', 'https://app.example.com/page?x=1'],
    ['https://example.com/', 'https://example.com/'],
    ['https://deep.app.example.com/a', 'https://deep.app.example.com/a'],
    ['/account', 'https://auth.example.com/account'],
    ['https://APP.Example.com/Case', 'https://app.example.com/Case'],
  ])('accepts %s', (candidate, expected) => {
    expect(safeReturnTo(candidate, rules)?.toString()).toBe(expected);
  });

  it.each([
    ['//evil.com', 'protocol-relative'],
    ['//evil.com/https://app.example.com', 'protocol-relative with decoy'],
    ['/\\evil.com', 'backslash that browsers read as a slash'],
    ['\\\\evil.com', 'double backslash'],
    ['https://app.example.com\\@evil.com', 'backslash in authority'],
    ['https://example.com.evil.com/', 'allowed name as a prefix of another host'],
    ['https://evilexample.com/', 'suffix without the dot'],
    ['https://evil.com/?https://app.example.com', 'allowed host only in the query'],
    ['https://app.example.com@evil.com/', 'user-info trick'],
    ['https://user:pass@app.example.com/', 'credentials in URL'],
    ['http://app.example.com/', 'plain http in production'],
    ['javascript:alert(1)', 'script URL'],
    ['data:text/html,hi', 'data URL'],
    ['https:evil.com', 'scheme without slashes'],
    ['/%2F%2Fevil.com', 'encoded slashes'],
    ['/%5Cevil.com', 'encoded backslash'],
    ['https://evil.com%2F.example.com/', 'encoded slash in host'],
    [' https://app.example.com/', 'leading space'],
    ['https://app.example.com/\n', 'control character'],
    ['\t//evil.com', 'tab before protocol-relative'],
    ['', 'empty'],
  ])('refuses %s (%s)', (candidate) => {
    expect(safeReturnTo(candidate, rules)).toBeNull();
  });

  it('refuses very long addresses', () => {
    expect(safeReturnTo(`https://app.example.com/${'a'.repeat(3000)}`, rules)).toBeNull();
  });

  it('allows plain http only when told (localhost development)', () => {
    const dev: ReturnToRules = { domains: ['127.0.0.1'], allowHttp: true, portal: new URL('http://127.0.0.1:8080/') };
    expect(safeReturnTo('http://127.0.0.1:3000/app', dev)?.toString()).toBe('http://127.0.0.1:3000/app');
    expect(safeReturnTo('http://localhost:3000/app', dev)).toBeNull();
  });
});
