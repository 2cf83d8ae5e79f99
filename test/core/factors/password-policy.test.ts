import { dictionary } from '@zxcvbn-ts/language-common';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PASSWORD_RULES, checkNewPassword, contextWords } from '../../../src/core/factors/password-policy.js';

const check = (password: string, username?: string) => checkNewPassword(password, { username });

describe('checkNewPassword', () => {
  it('defaults to 8..1024 characters', () => {
    expect(DEFAULT_PASSWORD_RULES).toEqual({ minLength: 8, maxLength: 1024 });
  });

  it('refuses fewer than 8 characters', () => {
    expect(check('tq7#vLp')).toMatchObject({ ok: false, code: 'password_too_short' });
  });

  it('accepts exactly 8 characters', () => {
    expect(check('tq7#vLpz')).toEqual({ ok: true });
  });

  it('accepts 64 characters and more', () => {
    expect(check('correct horse battery staple '.repeat(3).slice(0, 64))).toEqual({ ok: true });
    expect(check('x7'.repeat(200))).toEqual({ ok: true });
  });

  it('refuses more than the maximum', () => {
    expect(check('x'.repeat(1025))).toMatchObject({ ok: false, code: 'password_too_long' });
    expect(checkNewPassword('x7'.repeat(50), {}, { minLength: 8, maxLength: 64 })).toMatchObject({
      ok: false,
      code: 'password_too_long',
    });
  });

  it('needs no composition rules', () => {
    expect(check('all lower case words here')).toEqual({ ok: true });
  });

  it.each(['password1', 'qwertyuiop', 'iloveyou', 'sunshine', 'trustno1'])('refuses the common password %s', (password) => {
    expect(dictionary.passwords).toContain(password);
    expect(check(password)).toMatchObject({ ok: false, code: 'password_too_common' });
  });

  it('compares the blocklist case-insensitively', () => {
    expect(check('PassWord1')).toMatchObject({ ok: false, code: 'password_too_common' });
  });

  it('refuses the username, and passwords containing it', () => {
    expect(check('Marguerite', 'marguerite')).toMatchObject({ ok: false, code: 'password_contains_username' });
    expect(check('my-MARGUERITE-2026', 'marguerite')).toMatchObject({ ok: false, code: 'password_contains_username' });
  });

  it('allows a short username inside a password', () => {
    expect(check('bob-has-a-long-pass', 'bob')).toEqual({ ok: true });
    expect(check('zq9vbobk', 'zq9vbobk')).toMatchObject({ ok: false, code: 'password_contains_username' });
  });

  it('counts Unicode code points after NFKC', () => {
    // 7 emoji are 14 UTF-16 code units but 7 characters.
    expect('🔐🔑🔒🔓🚪🧱🪪'.length).toBe(14);
    expect(check('🔐🔑🔒🔓🚪🧱🪪')).toMatchObject({
      ok: false,
      code: 'password_too_short',
    });
    expect(check('🔐🔑🔒🔓🚪🧱🪪🧷')).toEqual({ ok: true });
    // 'e' + combining acute (8 code points) composes to 'é' (NFKC) and becomes 7.
    expect(check('cafe\u0301xyz')).toMatchObject({ ok: false, code: 'password_too_short' });
    expect(check('café' + 'xyzw')).toEqual({ ok: true });
  });

  it('never echoes the password in messages', () => {
    const password = 'password1';
    const result = check(password);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message.toLowerCase()).not.toContain(password);
    const short = check('secr3t');
    if (!short.ok) expect(short.message).not.toContain('secr3t');
  });

  it('refuses rules below the NIST floor', () => {
    expect(() => checkNewPassword('whatever-long', {}, { minLength: 6, maxLength: 1024 })).toThrow(RangeError);
    expect(() => checkNewPassword('whatever-long', {}, { minLength: 8, maxLength: 32 })).toThrow(RangeError);
  });
});

describe('context-specific words (ASVS 5.0 V6.1.2, V6.2.11)', () => {
  it('are twofold, the names users see and the host labels of public_url, without the top-level domain or short words', () => {
    expect(contextWords({ names: ['Acme Portal', 'twofold'], host: 'login.acme-corp.example' })).toEqual([
      'twofold',
      'acme portal',
      'login',
      'acme-corp',
    ]);
    expect(contextWords({ names: ['twofold'], host: '127.0.0.1' })).toEqual(['twofold']);
    expect(contextWords({ names: ['sso'], host: 'id.io' })).toEqual(['twofold']);
  });

  it('refuse a password that is one of them once digits and symbols are set aside, in any case', () => {
    const words = contextWords({ names: ['Acme Portal'], host: 'login.acme-corp.example' });
    for (const password of ['Twofold2024!', 'twofold!!', 'ACME-CORP-2025', 'acme portal 99', '12345678login']) {
      expect(checkNewPassword(password, { contextWords: words })).toMatchObject({ ok: false, code: 'password_contains_service_name' });
    }
  });

  it('accept passphrases that merely contain one, and all-digit passwords when no word is all digits', () => {
    const words = contextWords({ names: ['Acme Portal'], host: 'login.acme-corp.example' });
    expect(checkNewPassword('twofold guards the acme portal gate', { contextWords: words })).toEqual({ ok: true });
    expect(checkNewPassword('90210472', { contextWords: [...words, '2025'] })).toEqual({ ok: true });
  });
});
