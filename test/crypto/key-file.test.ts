import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateMasterKey } from '../../src/crypto/key-file.js';

const posix = process.platform !== 'win32';
let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'twofold-key-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('loadOrCreateMasterKey', () => {
  it('creates a 0600 key file in a new 0700 directory', () => {
    const dataDir = join(root, 'data');
    const key = loadOrCreateMasterKey(dataDir);
    expect(key).toHaveLength(32);
    const path = join(dataDir, 'secret.key');
    expect(Buffer.from(readFileSync(path, 'utf8').trim(), 'base64')).toEqual(key);
    if (posix) {
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    }
  });

  it('reuses the key on later calls', () => {
    const first = loadOrCreateMasterKey(root);
    expect(loadOrCreateMasterKey(root)).toEqual(first);
  });

  it.runIf(posix)('tightens a key file readable by others', () => {
    const path = join(root, 'secret.key');
    writeFileSync(path, Buffer.alloc(32, 5).toString('base64'));
    chmodSync(path, 0o644);
    expect(loadOrCreateMasterKey(root)).toEqual(Buffer.alloc(32, 5));
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('uses the configured key and touches no file', () => {
    const configured = Buffer.alloc(32, 9);
    expect(loadOrCreateMasterKey(join(root, 'unused'), configured.toString('base64'))).toEqual(configured);
    expect(() => statSync(join(root, 'unused'))).toThrow();
  });

  it.each(['', 'not base64!', Buffer.alloc(16).toString('base64'), Buffer.alloc(33).toString('base64')])(
    'refuses the configured key %j, naming encryption_key',
    (configured) => {
      expect(() => loadOrCreateMasterKey(root, configured)).toThrow(/encryption_key/);
    },
  );

  it('never echoes a bad configured key', () => {
    const configured = Buffer.alloc(31, 7).toString('base64');
    expect(() => loadOrCreateMasterKey(root, configured)).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(configured) }),
    );
  });

  it('refuses a key file that is not 32 bytes of base64', () => {
    writeFileSync(join(root, 'secret.key'), 'hello', { mode: 0o600 });
    expect(() => loadOrCreateMasterKey(root)).toThrow(/secret\.key.*32-byte/);
    writeFileSync(join(root, 'secret.key'), Buffer.alloc(16).toString('base64'), { mode: 0o600 });
    expect(() => loadOrCreateMasterKey(root)).toThrow(/32-byte/);
  });
});
