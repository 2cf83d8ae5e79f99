import type { Command } from 'commander';
import type { AuthDeps } from '../auth/deps.js';
import { revokeEverySession } from '../admin/admin-sessions.js';
import { revokeOtherSessions, revokeSession } from '../auth/sessions.js';
import { requireUser } from '../auth/users.js';
import type { SessionId } from '../core/ids.js';
import type { Session } from '../core/session/session.js';
import { describeUserAgent } from '../http/user-agent.js';
import { withDeps } from './cli-deps.js';
import { CliError } from './cli-error.js';
import { formatJson, formatTable, formatTime } from './format.js';

/** Recorded on the session and in the audit trail, beside 'logout', 'revoked_by_user', 'user_disabled'. */
const REVOKED_BY_ADMIN = 'revoked_by_admin';

/** `twofold sessions …`: see and end live sessions. */
export function registerSessionCommands(program: Command): void {
  const sessions = program.command('sessions').description('List and revoke live sessions');

  sessions
    .command('list')
    .description('List live sessions (neither revoked nor expired), newest first')
    .option('--user <name>', "only this user's sessions")
    .option('--json', 'print a JSON array instead of a table')
    .action(async (options: { user?: string; json?: boolean }) => {
      await withDeps(program, async (deps) => {
        const only = options.user === undefined ? undefined : await requireUser(deps, options.user);
        const live = await deps.store.sessions.listActive(deps.clock.now(), { userId: only?.id });
        const rows = describeSessions(live, await usernamesById(deps));
        if (options.json) {
          process.stdout.write(formatJson(rows));
          return;
        }
        if (!rows.length) {
          process.stdout.write('No live sessions.\n');
          return;
        }
        process.stdout.write(
          formatTable(
            ['ID', 'USER', 'AAL', 'IP', 'DEVICE', 'CREATED', 'LAST SEEN', 'EXPIRES'],
            rows.map((r) => [r.id, r.user, String(r.aal), r.ip, `${r.browser} on ${r.os}`, r.createdAt, r.lastSeenAt, r.expiresAt]),
          ),
        );
      });
    });

  sessions
    .command('revoke')
    .description(
      'End one session by its id, every session of a user (--user), or every session of every user (--all); the next request of that browser must sign in again',
    )
    .argument('[id]', 'session id, as shown by "twofold sessions list" (ses_…)')
    .option('--user <name>', 'end every live session of this user instead')
    .option('--all', 'end every live session of every user (ASVS V7.4.5: e.g. after a suspected breach)')
    .action(async (id: string | undefined, options: { user?: string; all?: boolean }, command: Command) => {
      if ([id !== undefined, options.user !== undefined, options.all === true].filter(Boolean).length !== 1) {
        command.error('give either a session ID or --user NAME or --all (exactly one of them)', { exitCode: 2, code: 'twofold.usage' });
      }
      await withDeps(program, async (deps) => {
        if (options.all) {
          const count = await revokeEverySession(deps, null);
          process.stdout.write(`Revoked ${count} session${count === 1 ? '' : 's'} of all users.\n`);
          return;
        }
        if (options.user !== undefined) {
          const user = await requireUser(deps, options.user);
          const count = await revokeOtherSessions(deps, user, null, REVOKED_BY_ADMIN, null);
          process.stdout.write(`Revoked ${count} session${count === 1 ? '' : 's'} of ${user.username}.\n`);
          return;
        }
        const session = await deps.store.sessions.findById(id as SessionId);
        if (!session) throw new CliError(`no session with id "${id}"`);
        if (await revokeSession(deps, session, REVOKED_BY_ADMIN, null)) process.stdout.write(`Revoked session ${session.id}.\n`);
        else process.stdout.write(`Session ${session.id} was already revoked (${session.revokedReason ?? 'no reason recorded'}).\n`);
      });
    });
}

async function usernamesById(deps: AuthDeps): Promise<Map<string, string>> {
  return new Map((await deps.store.users.list()).map((u) => [u.id, u.username]));
}

function describeSessions(sessions: Session[], usernames: Map<string, string>) {
  return sessions.map((s) => {
    const { browser, os } = describeUserAgent(s.userAgent);
    return {
      id: s.id,
      user: usernames.get(s.userId) ?? s.userId,
      userId: s.userId,
      kind: s.kind,
      aal: s.aal,
      amr: s.amr.map((use) => use.method),
      ip: s.ip,
      browser,
      os,
      userAgent: s.userAgent,
      createdAt: formatTime(s.createdAt),
      lastSeenAt: formatTime(s.lastSeenAt),
      // The session ends at whichever comes first: idle timeout (slides with activity) or absolute lifetime.
      expiresAt: formatTime(Math.min(s.idleExpiresAt, s.expiresAt)),
      absoluteExpiresAt: formatTime(s.expiresAt),
    };
  });
}
