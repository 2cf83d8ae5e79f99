import type { Command } from 'commander';
import { stringify } from 'yaml';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { CliError } from './cli-error.js';
import { formatDuration } from './format.js';

/** `twofold config …`: inspect configuration without starting anything. */
export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('Inspect the configuration');

  config
    .command('check')
    .description(
      'Validate the configuration (defaults < YAML file < TWOFOLD_* environment) and print the effective values, secrets masked; lists every problem otherwise',
    )
    .action(() => {
      const { config: file } = program.opts<{ config?: string }>();
      let effective: Config;
      try {
        effective = loadConfig({ file });
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        throw new CliError(`invalid configuration:\n${err.problems.map((p) => `  ${p}`).join('\n')}`);
      }
      process.stdout.write(stringify(displayConfig(effective)));
    });
}

/**
 * The validated configuration in the file's own vocabulary: snake_case keys, durations as "30m"
 * rather than milliseconds, URLs as text, and the encryption key never shown. Derived settings
 * (public_origin, sqlite_path, insecure_cookies, …) appear too: they are what the server will use.
 */
export function displayConfig(config: Config): Record<string, unknown> {
  return toDisplay({
    ...config,
    encryptionKey: config.encryptionKey === undefined ? null : '***',
    store: config.store.kind === 'postgres' ? { ...config.store, url: withoutPassword(config.store.url) } : config.store,
    redisUrl: config.redisUrl === null ? null : withoutPassword(config.redisUrl),
  }) as Record<string, unknown>;
}

/** A database or Redis URL as printed: its password replaced by ***. */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.href;
  } catch {
    return '***';
  }
}

function toDisplay(value: unknown): unknown {
  if (value instanceof URL) return value.href;
  if (Array.isArray(value)) return value.map(toDisplay);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    if (child === undefined) continue;
    if (key.endsWith('Ms') && typeof child === 'number') out[snakeCase(key.slice(0, -2))] = formatDuration(child);
    else out[snakeCase(key)] = toDisplay(child);
  }
  return out;
}

const snakeCase = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
