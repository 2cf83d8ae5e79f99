import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const KEY_BYTES = 32;
const KEY_FILE = 'secret.key';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const GENERATE_HINT = 'generate one with: openssl rand -base64 32';

/** Strict so a typo cannot silently become a different key; never echoes the value. */
function parseKey(text: string): Buffer | null {
  const trimmed = text.trim();
  if (!BASE64.test(trimmed)) return null;
  const key = Buffer.from(trimmed, 'base64');
  return key.length === KEY_BYTES ? key : null;
}

/**
 * The 32-byte master key: `configured` (base64) when given, else `${dataDir}/secret.key`,
 * created on first run with owner-only permissions.
 */
export function loadOrCreateMasterKey(dataDir: string, configured?: string): Buffer {
  if (configured !== undefined) {
    const key = parseKey(configured);
    if (!key) throw new Error(`encryption_key must be the base64 encoding of exactly 32 bytes (${GENERATE_HINT})`);
    return key;
  }
  const path = join(dataDir, KEY_FILE);
  return readKeyFile(path) ?? createKeyFile(dataDir, path);
}

function readKeyFile(path: string): Buffer | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  // The key decrypts every TOTP secret: other local users must not be able to read it.
  if (process.platform !== 'win32' && (statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  const key = parseKey(text);
  if (!key) {
    throw new Error(
      `${path} does not hold a base64-encoded 32-byte key: restore the original file (secrets encrypted with it cannot be read without it) or set encryption_key`,
    );
  }
  return key;
}

function createKeyFile(dataDir: string, path: string): Buffer {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(KEY_BYTES);
  try {
    // 'wx' fails if the file exists, so a second process starting at the same time cannot replace the first one's key.
    writeFileSync(path, `${key.toString('base64')}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const existing = readKeyFile(path);
    if (!existing) throw error;
    return existing;
  }
  return key;
}
