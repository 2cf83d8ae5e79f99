import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { createDeps } from '../../src/app.js';
import type { AuthDeps } from '../../src/auth/deps.js';
import { loadConfig } from '../../src/config.js';

/** The built CLI (`npm run build` first; npm test does). */
export const CLI_MAIN = join(resolve(import.meta.dirname, '../..'), 'dist/src/cli/main.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `twofold ARGS` in a child process as an operator would, in `root` with `TWOFOLD_DATA_DIR` set
 * to `dataDir`: stdin a pipe (never a TTY) fed `input`, and none of this process's TWOFOLD_*
 * variables or PORT, only those given.
 */
export function runCli(
  args: string[],
  where: { root: string; dataDir: string },
  options: { input?: string; env?: Record<string, string> } = {},
): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('TWOFOLD_') && key !== 'PORT') env[key] = value;
  Object.assign(env, { TWOFOLD_DATA_DIR: where.dataDir }, options.env);
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [CLI_MAIN, ...args], { cwd: where.root, env, stdio: 'pipe' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Use cases run in this process against the CLI's data dir; the store is closed before returning. */
export async function withCliStore<T>(where: { root: string; dataDir: string }, run: (deps: AuthDeps) => Promise<T>): Promise<T> {
  const config = loadConfig({
    env: {},
    cwd: where.root,
    overrides: { data_dir: where.dataDir, public_url: 'http://127.0.0.1:8080', log_level: 'silent' },
  });
  const deps = await createDeps(config);
  try {
    return await run(deps);
  } finally {
    await deps.store.close();
  }
}
