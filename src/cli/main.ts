#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { AppError } from '../auth/errors.js';
import { CliError } from './cli-error.js';
import { registerServe } from './serve.js';

const program = new Command();
program
  .name('twofold')
  .description('Self-hosted two-factor session manager')
  .option('-c, --config <file>', 'YAML configuration file (default: ./twofold.yaml if present, or TWOFOLD_CONFIG)')
  .showHelpAfterError()
  .exitOverride();

registerServe(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (err instanceof CliError || err instanceof AppError) {
    process.stderr.write(`twofold: ${err.message}\n`);
    process.exit(err instanceof CliError ? err.exitCode : 1);
  }
  throw err;
}
