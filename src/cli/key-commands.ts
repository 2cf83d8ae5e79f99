import type { Command } from 'commander';
import { withDeps } from './cli-deps.js';
import { formatJson, formatTable, formatTime } from './format.js';

/** `twofold keys …`: the Ed25519 keys that sign access tokens (docs/tokens.md). */
export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('Access-token signing keys (published at /.well-known/jwks.json)');

  keys
    .command('list')
    .description('List signing keys, newest first: active (signs), verifying (retired, still in the JWKS) or expired')
    .option('--json', 'print a JSON array instead of a table')
    .action(async (options: { json?: boolean }) => {
      await withDeps(program, async (deps) => {
        const rows = (await deps.keyRing.list()).map((key) => ({
          kid: key.kid,
          algorithm: key.algorithm,
          state: key.state,
          createdAt: formatTime(key.createdAt),
          retiredAt: key.retiredAt === null ? null : formatTime(key.retiredAt),
          verifyUntil: key.verifyUntil === null ? null : formatTime(key.verifyUntil),
        }));
        if (options.json) {
          process.stdout.write(formatJson(rows));
          return;
        }
        if (!rows.length) {
          process.stdout.write('No signing keys yet: the first access token issued creates one (or run "twofold keys rotate").\n');
          return;
        }
        process.stdout.write(
          formatTable(
            ['KID', 'ALG', 'STATE', 'CREATED', 'RETIRED', 'VERIFIES UNTIL'],
            rows.map((r) => [r.kid, r.algorithm, r.state, r.createdAt, r.retiredAt ?? '-', r.verifyUntil ?? '-']),
          ),
        );
      });
    });

  keys
    .command('rotate')
    .description('Add a new signing key that signs from now on; older keys keep verifying until the tokens they signed expire')
    .action(async () => {
      await withDeps(program, async (deps) => {
        const rotated = await deps.keyRing.rotate();
        process.stdout.write(
          `New signing key ${rotated.kid}. Retired ${rotated.retired} key${rotated.retired === 1 ? '' : 's'} (verifying until their tokens expire); deleted ${rotated.deleted} expired.\n` +
            'Running twofold servers pick it up within 30 seconds.\n',
        );
      });
    });
}
