import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { ApiClient, type EnrolledUser } from '../http/client.js';
import { enrolledUser, refresh, tokenSignIn, type TokenPair } from './support.js';

/**
 * Key rotation as an operator does it: `twofold keys rotate` in another process against the data
 * directory of a running twofold, and verifiers that know twofold only by its JWKS URL (jose's
 * createRemoteJWKSet over real HTTP).
 */

const REPO = resolve(import.meta.dirname, '../..');
const MINUTE = 60_000;
/** tsx's loader by path: the CLI runs in the data directory, outside the repository. */
const TSX = pathToFileURL(resolve(REPO, 'node_modules/tsx/dist/loader.mjs')).href;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI from source (tsx), so this test does not depend on a build. */
function twofold(dataDir: string, args: string[]): Promise<Run> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('TWOFOLD_') && key !== 'PORT') env[key] = value;
  env.TWOFOLD_DATA_DIR = dataDir;
  env.TWOFOLD_LOG_LEVEL = 'silent';
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', TSX, resolve(REPO, 'src/cli/main.ts'), ...args], {
      cwd: dataDir,
      env,
      stdio: 'pipe',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end('');
  });
}

describe('signing keys: JWKS and rotation', () => {
  let h: Harness;
  let alice: EnrolledUser;
  let app: ApiClient;
  let first: TokenPair;
  let second: TokenPair;
  let jwks: ReturnType<typeof createRemoteJWKSet>;
  const kidOf = (token: string) => decodeProtectedHeader(token).kid!;
  /** An independent verifier: only the JWKS URL, the issuer and the time. */
  const verify = (token: string) =>
    jwtVerify(token, jwks, { issuer: h.origin, algorithms: ['EdDSA'], currentDate: new Date(h.clock.now()) });
  const published = async () =>
    ((await (await fetch(`${h.baseUrl}/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, string>> }).keys;

  beforeAll(async () => {
    h = await startHarness({ listen: true });
    alice = await enrolledUser(h);
    app = new ApiClient(h);
    // cooldownDuration 0: a real verifier waits 30 s before re-fetching for an unknown kid.
    jwks = createRemoteJWKSet(new URL(`${h.baseUrl}/.well-known/jwks.json`), { cooldownDuration: 0 });
  }, 30_000);
  afterAll(async () => {
    await h?.close();
  });

  it('publishes the public Ed25519 key that signed a token, by kid, and nothing private', async () => {
    expect(await published()).toEqual([]); // no key before the first token
    first = (await tokenSignIn(h, app, alice)).reply.body;
    const keys = await published();
    expect(keys).toEqual([{ kty: 'OKP', crv: 'Ed25519', x: expect.any(String), kid: kidOf(first.access_token), alg: 'EdDSA', use: 'sig' }]);
    const { payload, protectedHeader } = await verify(first.access_token);
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'at+jwt' });
    expect(payload.sub).toMatch(/^usr_/);
  });

  it('`twofold keys rotate` in another process: new tokens use the new kid, old ones keep verifying', async () => {
    const rotated = await twofold(h.dataDir, ['keys', 'rotate']);
    expect(rotated.stderr).toBe('');
    expect(rotated.code).toBe(0);
    expect(rotated.stdout).toMatch(/^New signing key \S+\. Retired 1 key/);

    const listed = await twofold(h.dataDir, ['keys', 'list', '--json']);
    const keys = JSON.parse(listed.stdout) as Array<{ kid: string; state: string }>;
    expect(keys.map((k) => k.state)).toEqual(['active', 'verifying']);
    expect(keys[1]!.kid).toBe(kidOf(first.access_token));
    const newKid = keys[0]!.kid;

    // The running server re-reads its keys within 30 s.
    h.clock.advance(31_000);
    second = (await refresh(app, first.refresh_token)).body;
    expect(kidOf(second.access_token)).toBe(newKid);
    expect((await published()).map((k) => k.kid).sort()).toEqual([newKid, kidOf(first.access_token)].sort());
    await expect(verify(second.access_token)).resolves.toBeDefined();
    await expect(verify(first.access_token)).resolves.toBeDefined();
    // twofold itself accepts both (the first one's session is the same live session).
    expect((await app.get('/api/v1/session', { bearer: first.access_token })).status).toBe(200);
    expect((await app.get('/api/v1/session', { bearer: second.access_token })).status).toBe(200);
  });

  it('a retired key leaves the JWKS once every token it signed has expired, and is deleted at the next rotation', async () => {
    const oldKid = kidOf(first.access_token);
    h.clock.advance(12 * MINUTE); // past the old key's verify_until (access TTL + margin after the rotation)
    expect((await published()).map((k) => k.kid)).toEqual([kidOf(second.access_token)]);
    await expect(verify(first.access_token)).rejects.toThrow();
    expect((await h.deps.keyRing.list()).find((k) => k.kid === oldKid)?.state).toBe('expired');
    const rotated = await h.deps.keyRing.rotate();
    expect(rotated).toMatchObject({ retired: 1, deleted: 1 });
    expect((await h.deps.keyRing.list()).map((k) => k.kid)).not.toContain(oldKid);
  });
});
