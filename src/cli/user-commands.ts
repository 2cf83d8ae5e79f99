import type { Command } from 'commander';
import type { AuthDeps } from '../auth/deps.js';
import { AppError } from '../auth/errors.js';
import { assertAcceptablePassword } from '../auth/password-change.js';
import { issuePasswordResetLink } from '../auth/password-reset.js';
import { addUser, requireUser, resetFactors, setUserDisabled } from '../auth/users.js';
import { normalizeUsername } from '../core/identity/username.js';
import { UsernameTakenError, type User } from '../store/store.js';
import { withDeps } from './cli-deps.js';
import { CliError } from './cli-error.js';
import { formatJson, formatTable, formatTime, yesNo } from './format.js';
import { promptHidden, readPasswordFromStdin } from './password-input.js';

interface AddOptions {
  admin?: boolean;
  passwordStdin?: boolean;
  displayName?: string;
  email?: string;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `twofold user …`: add, list, disable, enable and reset the factors of users. */
export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('Manage users: add, list, disable, enable, reset factors, reset password');

  user
    .command('add')
    .description('Create a user and print its id; the password is asked twice on the terminal, or read from stdin')
    .argument('<name>', 'username: 1 to 64 letters, digits or . _ @ - (case-insensitive)')
    .option('--admin', 'make the user an administrator')
    .option('--password-stdin', 'read the password from stdin (all of it, minus one trailing newline)')
    .option('--display-name <name>', 'name shown in the portal (default: the username)')
    .option('--email <address>', 'contact address')
    .addHelpText('after', `\nExample:\n  printf '%s\\n' "$PASSWORD" | twofold user add alice --admin --password-stdin`)
    .action(async (name: string, options: AddOptions, command: Command) => {
      // Decided before the store is opened: a script that forgot the flag must not hang on a prompt.
      if (!options.passwordStdin && !process.stdin.isTTY) {
        command.error('stdin is not a terminal: pass --password-stdin to read the password from it', {
          exitCode: 2,
          code: 'twofold.usage',
        });
      }
      const password = options.passwordStdin ? await readPasswordFromStdin() : undefined;
      await withDeps(program, async (deps) => {
        const created = await addUserFromCli(deps, name, password, options);
        process.stdout.write(`${created.id}\n`);
      });
    });

  user
    .command('list')
    .description('List users with their second-factor state')
    .option('--json', 'print a JSON array instead of a table')
    .action(async (options: { json?: boolean }) => {
      await withDeps(program, async (deps) => {
        const users = await deps.store.users.list();
        const rows = await Promise.all(users.map((u) => describeUser(deps, u)));
        if (options.json) {
          process.stdout.write(formatJson(rows));
          return;
        }
        if (!rows.length) {
          process.stdout.write('No users yet.\n');
          return;
        }
        process.stdout.write(
          formatTable(
            ['USERNAME', 'ADMIN', 'DISABLED', 'TOTP', 'RECOVERY CODES', 'CREATED'],
            rows.map((r) => [
              r.username,
              yesNo(r.admin),
              yesNo(r.disabled),
              yesNo(r.totpEnrolled),
              String(r.recoveryCodesLeft),
              r.createdAt,
            ]),
          ),
        );
      });
    });

  user
    .command('disable')
    .description('Disable a user: they cannot sign in, and all their sessions end now')
    .argument('<name>', 'username')
    .action(async (name: string) => {
      await withDeps(program, async (deps) => {
        const target = await requireUser(deps, name);
        const { endedSessions } = await setUserDisabled(deps, target, true, null);
        process.stdout.write(`Disabled ${target.username}; ended ${plural(endedSessions, 'session')}.\n`);
      });
    });

  user
    .command('enable')
    .description('Enable a disabled user, so they can sign in again')
    .argument('<name>', 'username')
    .action(async (name: string) => {
      await withDeps(program, async (deps) => {
        const target = await requireUser(deps, name);
        await setUserDisabled(deps, target, false, null);
        process.stdout.write(`Enabled ${target.username}.\n`);
      });
    });

  user
    .command('reset-factors')
    .description("Remove a user's authenticator and recovery codes (lost phone) and end their sessions; they enroll again at next sign-in")
    .argument('<name>', 'username')
    .action(async (name: string) => {
      await withDeps(program, async (deps) => {
        const target = await requireUser(deps, name);
        const { endedSessions } = await resetFactors(deps, target, null);
        process.stdout.write(
          `Removed the second factors of ${target.username}; ended ${plural(endedSessions, 'session')}. ` +
            'They must enroll a second factor at their next sign-in.\n',
        );
      });
    });

  user
    .command('reset-password')
    .description(
      'Print a one-time link (valid 1 h) where a user who forgot their password sets a new one, proving their second factor; give it only to the user, after checking who asks',
    )
    .argument('<name>', 'username')
    .action(async (name: string) => {
      await withDeps(program, async (deps) => {
        const target = await requireUser(deps, name);
        if (target.disabled) throw new CliError(`${target.username} is disabled: enable the account first`);
        const link = await issuePasswordResetLink(deps, target, null);
        process.stdout.write(
          `Password reset link for ${target.username} (one use, expires ${formatTime(link.expiresAt)}):\n\n  ${link.url}\n`,
        );
      });
    });
}

/**
 * Checks what can be checked before asking for a password (the name is free, the password meets the
 * policy) so that nobody types a passphrase twice only to be refused.
 */
async function addUserFromCli(deps: AuthDeps, name: string, piped: string | undefined, options: AddOptions): Promise<User> {
  try {
    const username = normalizeUsername(name);
    if (username === null) throw new CliError(`"${name}" is not a valid username: use 1 to 64 letters, digits or . _ @ - characters`);
    if (await deps.store.users.findByUsername(username)) throw new UsernameTakenError(username);
    let password = piped;
    if (password === undefined) {
      password = await promptHidden(`Password for ${username}: `);
      assertAcceptablePassword(password, username, deps.config);
      if ((await promptHidden('Repeat the password: ')) !== password) throw new CliError('the passwords do not match');
    }
    const input = { username: name, password, isAdmin: Boolean(options.admin), displayName: options.displayName, email: options.email };
    return await addUser(deps, input, null);
  } catch (err) {
    // Also a concurrent add of the same name, which loses at the store's unique index.
    if (err instanceof UsernameTakenError) throw new CliError(err.message);
    if (err instanceof AppError && err.code === 'password_rejected') throw new CliError(`password refused: ${err.message}`);
    throw err;
  }
}

async function describeUser(deps: AuthDeps, user: User) {
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    email: user.email,
    admin: user.isAdmin,
    disabled: user.disabled,
    totpEnrolled: (await deps.store.factors.findConfirmedTotp(user.id)) !== undefined,
    recoveryCodesLeft: await deps.store.factors.countRecoveryCodesLeft(user.id),
    createdAt: formatTime(user.createdAt),
  };
}
