import type { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { CliError } from './cli-error.js';

/** Loads configuration for a command; --config names the YAML file. Errors become a clear CLI message. */
export function loadCliConfig(program: Command, overrides: Record<string, unknown> = {}): Config {
  const { config: file } = program.opts<{ config?: string }>();
  try {
    return loadConfig({ file, overrides });
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
}
