import type { Command } from 'commander';
import { createDeps } from '../app.js';
import type { AuthDeps } from '../auth/deps.js';
import { loadCliConfig } from './cli-config.js';

/**
 * Runs one command against the store named by the configuration (-c/--config, TWOFOLD_* env) and
 * always closes it, so the process can exit and SQLite checkpoints its WAL.
 */
export async function withDeps<T>(program: Command, run: (deps: AuthDeps) => Promise<T>): Promise<T> {
  const deps = await createDeps(loadCliConfig(program));
  try {
    return await run(deps);
  } finally {
    await deps.store.close();
  }
}
