#!/usr/bin/env node
// First, before anything else loads: see hold-tick-shape.ts.
import './hold-tick-shape.js';
import { Command, CommanderError } from 'commander';
import { AppError } from '../auth/errors.js';
import { CliError } from './cli-error.js';
import { registerConfigCommands } from './config-commands.js';
import { registerRiskCommands } from './risk-commands.js';
import { registerHousekeepingCommands } from './housekeeping-commands.js';
import { registerKeyCommands } from './key-commands.js';
import { registerMigrateCommands } from './migrate-commands.js';
import { registerServe } from './serve.js';
import { registerSessionCommands } from './session-commands.js';
import { registerEventCommands } from './event-commands.js';
import { registerUserCommands } from './user-commands.js';
import { registerWebhookCommands } from './webhook-commands.js';

/** Usage errors (unknown command or option, missing argument, conflicting flags) exit 2, as in POSIX utilities. */
const USAGE_EXIT_CODE = 2;

const program = new Command();
program
  .name('twofold')
  .description('Self-hosted two-factor session manager')
  .option('-c, --config <file>', 'YAML configuration file (default: ./twofold.yaml if present, or TWOFOLD_CONFIG)')
  // Inherited by every sub-command, so set before they are registered.
  .showHelpAfterError("(run 'twofold --help', or 'twofold <command> --help', for usage)")
  .configureOutput({ outputError: (message, write) => write(`twofold: ${message.replace(/^error: /, '')}`) })
  .exitOverride();

registerServe(program);
registerUserCommands(program);
registerSessionCommands(program);
registerEventCommands(program);
registerConfigCommands(program);
registerRiskCommands(program);
registerKeyCommands(program);
registerMigrateCommands(program);
registerWebhookCommands(program);
registerHousekeepingCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Commander has already printed its message (or the help); only the exit code is left to choose.
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : USAGE_EXIT_CODE);
  if (err instanceof CliError || err instanceof AppError) {
    process.stderr.write(`twofold: ${err.message}\n`);
    process.exit(err instanceof CliError ? err.exitCode : 1);
  }
  throw err;
}
