import type { Command } from 'commander';
import { AppError } from '../auth/errors.js';
import { WEBHOOK_EVENT_TYPES } from '../core/webhooks/security-events.js';
import { addEndpoint, deliveryLog, listEndpoints, removeEndpoint, sendTestMessage, type DeliveryLogEntry } from '../webhooks/endpoints.js';
import { withDeps } from './cli-deps.js';
import { CliError } from './cli-error.js';
import { formatJson, formatTable, formatTime } from './format.js';

/** Use-case refusals (bad URL, unknown event type, no such endpoint) as one clear CLI line. */
async function asCliErrors<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof AppError && (err.code === 'bad_request' || err.code === 'not_found')) throw new CliError(err.message);
    throw err;
  }
}

const statusOf = (entry: DeliveryLogEntry): string => {
  const d = entry.delivery;
  if (d.status === 'pending' && d.nextAttemptAt !== null) return `pending (next ${formatTime(d.nextAttemptAt)})`;
  return d.status;
};

const lastAnswer = (entry: DeliveryLogEntry): string => {
  const d = entry.delivery;
  if (d.lastStatusCode !== null) return String(d.lastStatusCode);
  return d.lastError ?? '-';
};

/** `twofold webhooks …`: signed webhooks for security events (docs/webhooks.md). */
export function registerWebhookCommands(program: Command): void {
  const webhooks = program.command('webhooks').description('Send signed security events to your endpoints (Standard Webhooks)');

  webhooks
    .command('add')
    .description('Add an endpoint; prints its signing secret (whsec_…), which is shown this once only')
    .argument('<url>', 'http(s) URL the events are POSTed to')
    .requiredOption('--events <types>', `comma-separated event types, prefixes ("session.*") or "*": ${WEBHOOK_EVENT_TYPES.join(', ')}`)
    .option('--description <text>', 'a note for the listing')
    .option('--json', 'print JSON instead of text')
    .action(async (url: string, options: { events: string; description?: string; json?: boolean }) => {
      await withDeps(program, async (deps) => {
        const { endpoint, secret } = await asCliErrors(() =>
          addEndpoint(deps, { url, events: options.events.split(','), description: options.description }, null),
        );
        if (options.json) {
          process.stdout.write(formatJson({ id: endpoint.id, url: endpoint.url, events: endpoint.events, secret }));
          return;
        }
        process.stdout.write(
          [
            `Added webhook endpoint ${endpoint.id} for ${endpoint.events.join(', ')}.`,
            '',
            `Signing secret (shown this once; verify webhook-signature with it):`,
            '',
            `  ${secret}`,
            '',
          ].join('\n'),
        );
      });
    });

  webhooks
    .command('list')
    .description('List endpoints with their delivery counts')
    .option('--json', 'print a JSON array instead of a table')
    .action(async (options: { json?: boolean }) => {
      await withDeps(program, async (deps) => {
        const rows = (await listEndpoints(deps)).map(({ endpoint, counts }) => ({
          id: endpoint.id,
          url: endpoint.url,
          description: endpoint.description,
          events: endpoint.events,
          createdAt: formatTime(endpoint.createdAt),
          pending: counts.pending,
          delivered: counts.delivered,
          failed: counts.failed,
          lastAttemptAt: counts.lastAttemptAt === null ? null : formatTime(counts.lastAttemptAt),
        }));
        if (options.json) {
          process.stdout.write(formatJson(rows));
          return;
        }
        if (!rows.length) {
          process.stdout.write('No webhook endpoints. Add one with: twofold webhooks add URL --events "*"\n');
          return;
        }
        process.stdout.write(
          formatTable(
            ['ID', 'URL', 'EVENTS', 'PENDING', 'DELIVERED', 'FAILED', 'LAST ATTEMPT'],
            rows.map((r) => [
              r.id,
              r.url,
              r.events.join(','),
              String(r.pending),
              String(r.delivered),
              String(r.failed),
              r.lastAttemptAt ?? '-',
            ]),
          ),
        );
      });
    });

  webhooks
    .command('remove')
    .description('Remove an endpoint with its queued deliveries and their log')
    .argument('<id>', 'endpoint id (whk_…)')
    .action(async (id: string) => {
      await withDeps(program, async (deps) => {
        await asCliErrors(() => removeEndpoint(deps, id, null));
        process.stdout.write(`Removed webhook endpoint ${id}.\n`);
      });
    });

  webhooks
    .command('deliveries')
    .description("An endpoint's delivery log, newest first: status, attempts, last answer")
    .argument('<id>', 'endpoint id (whk_…)')
    .option('--limit <n>', 'how many deliveries', '20')
    .option('--json', 'print JSON, every attempt included')
    .action(async (id: string, options: { limit: string; json?: boolean }) => {
      const limit = Number(options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new CliError('--limit: a whole number from 1 to 500', 2);
      await withDeps(program, async (deps) => {
        const log = await asCliErrors(() => deliveryLog(deps, id, limit));
        if (options.json) {
          process.stdout.write(formatJson(log));
          return;
        }
        if (!log.length) {
          process.stdout.write('No deliveries yet.\n');
          return;
        }
        process.stdout.write(
          formatTable(
            ['DELIVERY', 'EVENT', 'CREATED', 'STATUS', 'ATTEMPTS', 'LAST ANSWER', 'LAST MS'],
            log.map((entry) => [
              entry.delivery.id,
              entry.delivery.eventType,
              formatTime(entry.delivery.createdAt),
              statusOf(entry),
              String(entry.delivery.attempts),
              lastAnswer(entry),
              String(entry.attempts.at(-1)?.durationMs ?? '-'),
            ]),
          ),
        );
      });
    });

  webhooks
    .command('test')
    .description('Send a signed webhook.test message to an endpoint now and show the answer')
    .argument('<id>', 'endpoint id (whk_…)')
    .action(async (id: string) => {
      await withDeps(program, async (deps) => {
        const entry = await asCliErrors(() => sendTestMessage(deps, id));
        const attempt = entry.attempts.at(-1);
        if (entry.delivery.status === 'delivered') {
          process.stdout.write(`Delivered ${entry.delivery.messageId}: HTTP ${attempt?.statusCode} in ${attempt?.durationMs} ms.\n`);
          return;
        }
        const next =
          entry.delivery.nextAttemptAt === null ? '' : `; the server retries it from ${formatTime(entry.delivery.nextAttemptAt)}`;
        throw new CliError(`not delivered: ${attempt?.error ?? 'no attempt made'}${next}`);
      });
    });
}
