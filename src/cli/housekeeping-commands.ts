import type { Command } from 'commander';
import { runHousekeeping } from '../housekeeping/housekeeping.js';
import { withDeps } from './cli-deps.js';
import { formatJson } from './format.js';

/** `twofold housekeeping`: one pass now, as servers run every housekeeping.interval (docs/housekeeping.md). */
export function registerHousekeepingCommands(program: Command): void {
  program
    .command('housekeeping')
    .description(
      'Delete what ended long ago now: sessions past housekeeping.keep_sessions (with their refresh tokens), expired sign-in and passkey challenges, finished webhook deliveries past housekeeping.keep_webhook_deliveries. The audit log is kept.',
    )
    .option('--json', 'print the counts as JSON')
    .action(async (options: { json?: boolean }) => {
      await withDeps(program, async (deps) => {
        const report = await runHousekeeping(deps);
        if (options.json) {
          process.stdout.write(formatJson(report));
          return;
        }
        process.stdout.write(
          `Deleted ${report.sessions} ended session(s), ${report.pendingLogins} expired sign-in challenge(s), ` +
            `${report.webauthnChallenges} expired passkey challenge(s), ${report.webhookDeliveries} finished webhook delivery(ies).\n`,
        );
      });
    });
}
