import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { exportEvents, type EventFilterInput } from '../admin/admin-events.js';
import type { ExportFormat } from '../core/admin/event-records.js';
import { parsePointInTime } from '../core/admin/time-filter.js';
import { withDeps } from './cli-deps.js';

interface ExportOptions {
  since?: string;
  until?: string;
  format: string;
  type?: string;
  user?: string;
  ip?: string;
  outcome?: string;
  output?: string;
}

const FORMATS: readonly ExportFormat[] = ['jsonl', 'csv'];
const OUTCOMES = ['success', 'failure', 'info'] as const;

/** `twofold events …`: the audit trail, for archives and SIEMs. */
export function registerEventCommands(program: Command): void {
  const events = program.command('events').description('Read the audit trail');

  events
    .command('export')
    .description('Write the matching audit events, newest first, as JSON Lines or CSV (to stdout, or --output FILE)')
    .option('--since <when>', 'from this time: ISO 8601 date or date-time (UTC unless given), or a duration ago such as 24h or 7d')
    .option('--until <when>', 'up to (not including) this time, same forms as --since')
    .option('--format <format>', 'jsonl or csv', 'jsonl')
    .option('--type <types>', 'comma-separated event types; "login.*" matches a prefix')
    .option('--user <name>', "only this user's events (username or id)")
    .option('--ip <address>', 'only events from this address')
    .option('--outcome <outcome>', 'success, failure or info')
    .option('-o, --output <file>', 'write to this file instead of stdout')
    .action(async (options: ExportOptions, command: Command) => {
      const usage = (message: string): never => command.error(message, { exitCode: 2, code: 'twofold.usage' });
      if (!(FORMATS as readonly string[]).includes(options.format)) usage(`--format must be jsonl or csv, not "${options.format}"`);
      if (options.outcome !== undefined && !(OUTCOMES as readonly string[]).includes(options.outcome))
        usage(`--outcome must be success, failure or info, not "${options.outcome}"`);
      const now = Date.now();
      const time = (flag: string, text: string | undefined): number | undefined => {
        if (text === undefined) return undefined;
        const ms = parsePointInTime(text, now);
        return ms ?? usage(`${flag} "${text}" is neither an ISO 8601 date nor a duration like 24h`);
      };
      const filter: EventFilterInput = {
        since: time('--since', options.since),
        until: time('--until', options.until),
        types: options.type
          ?.split(',')
          .map((t) => t.trim())
          .filter(Boolean),
        user: options.user,
        ip: options.ip,
        outcome: options.outcome as EventFilterInput['outcome'],
      };
      await withDeps(program, async (deps) => {
        const out: Writable = options.output ? createWriteStream(options.output, { mode: 0o600 }) : process.stdout;
        for await (const chunk of exportEvents(deps, filter, options.format as ExportFormat)) {
          if (!out.write(chunk)) await once(out, 'drain');
        }
        if (options.output) {
          out.end();
          await once(out, 'finish');
        }
      });
    });
}
