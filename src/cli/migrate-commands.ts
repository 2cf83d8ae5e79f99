import type { Command } from 'commander';
import type { CopyRefusedError } from '../store/copy-store.js';
import { migrateToLatest } from '../store/migrations/index.js';
import { openSqliteStore } from '../store/sqlite/open.js';
import { StoreUnavailableError } from '../store/store-errors.js';
import { loadCliConfig } from './cli-config.js';
import { CliError } from './cli-error.js';
import { formatTable } from './format.js';

interface MigrateOptions {
  from?: string;
  to?: string;
}

const USAGE = { exitCode: 2, code: 'twofold.usage' };

/**
 * `twofold migrate`: bring the configured store's schema up to date (what migrate_on_start does at
 * start), or `--from sqlite:PATH --to postgres://…` to move an installation to PostgreSQL.
 */
export function registerMigrateCommands(program: Command): void {
  program
    .command('migrate')
    .description('Apply pending schema migrations to the configured store, or copy a SQLite installation into PostgreSQL')
    .option('--from <sqlite:PATH>', 'copy from this SQLite file (with --to)')
    .option('--to <postgres://…>', 'into this empty PostgreSQL database (migrated first); counts are checked afterwards')
    .addHelpText(
      'after',
      '\nExamples:\n  twofold migrate\n  twofold migrate --from sqlite:./data/twofold.db --to postgres://twofold@db.internal:5432/twofold',
    )
    .action(async (options: MigrateOptions, command: Command) => {
      if ((options.from === undefined) !== (options.to === undefined)) command.error('give both --from and --to, or neither', USAGE);
      try {
        if (options.from !== undefined && options.to !== undefined) await copy(options.from, options.to, command);
        else await migrateConfigured(program);
      } catch (err) {
        // The PostgreSQL modules load only in the commands that use them (not in `twofold serve`): no instanceof here.
        if ((err as Partial<CopyRefusedError>).name === 'CopyRefusedError') throw new CliError(`migrate: ${(err as Error).message}`);
        if (err instanceof StoreUnavailableError) throw new CliError(`migrate: PostgreSQL is unavailable (${describeCause(err)})`);
        throw err;
      }
    });
}

async function migrateConfigured(program: Command): Promise<void> {
  const config = loadCliConfig(program);
  if (config.store.kind === 'postgres') {
    const { postgresKysely } = await import('../store/postgres/open.js');
    const db = postgresKysely(config.store.url);
    try {
      report((await migrateToLatest(db, 'postgres')).results?.map((r) => r.migrationName) ?? [], 'PostgreSQL');
    } finally {
      await db.destroy();
    }
    return;
  }
  // Opening the SQLite store applies what is pending; the names are read from its bookkeeping.
  const { store } = await openSqliteStore(config.sqlitePath, { migrate: true, backgroundCheckpoints: false });
  await store.close();
  process.stdout.write(`SQLite ${config.sqlitePath}: schema is current.\n`);
}

function report(applied: string[], where: string): void {
  process.stdout.write(applied.length ? `${where}: applied ${applied.join(', ')}.\n` : `${where}: schema is current, nothing to apply.\n`);
}

async function copy(from: string, to: string, command: Command): Promise<void> {
  if (!from.startsWith('sqlite:') || from.length === 'sqlite:'.length) command.error('--from must be sqlite:PATH', USAGE);
  if (!/^postgres(ql)?:\/\//.test(to)) command.error('--to must be a postgres:// URL', USAGE);
  const path = from.slice('sqlite:'.length);
  let last = '';
  const { copySqliteToPostgres } = await import('../store/copy-store.js');
  const copied = await copySqliteToPostgres(path, to, (table, rows) => {
    if (process.stderr.isTTY) process.stderr.write(`\r  ${table}: ${rows} rows`);
    last = table;
  });
  if (last && process.stderr.isTTY) process.stderr.write('\n');
  process.stdout.write(
    formatTable(
      ['TABLE', 'SQLITE', 'POSTGRESQL', 'CHECK'],
      copied.map((c) => [c.table, String(c.source), String(c.target), c.source === c.target ? 'ok' : 'MISMATCH']),
    ),
  );
  const mismatched = copied.filter((c) => c.source !== c.target);
  if (mismatched.length) throw new CliError(`migrate: row counts differ for ${mismatched.map((c) => c.table).join(', ')}`);
  const total = copied.reduce((n, c) => n + c.source, 0);
  process.stdout.write(
    `Copied ${total} rows in ${copied.length} tables; counts match. Point every node at it (store: <its URL>) with the old data_dir/secret.key as encryption_key.\n`,
  );
}

/** The driver's reason without the URL (which may carry a password). */
const describeCause = (err: StoreUnavailableError): string => {
  const cause = err.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message?.split('\n')[0] ?? 'no answer';
};
