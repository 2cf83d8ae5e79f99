import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthDeps } from '../../src/auth/deps.js';
import { issueSession } from '../../src/auth/sessions.js';
import { addUser } from '../../src/auth/users.js';
import { runCli, withCliStore, type CliRun } from '../support/cli.js';
import { freePort } from '../support/harness.js';
import { Receiver, verifyStandardWebhook } from './receiver.js';

/**
 * `twofold webhooks …` as an operator runs it: the built CLI in a child process per command, on a
 * real SQLite file, against a real HTTP receiver. Needs `npm run build` (as test/cli does).
 */

// A child process per command: generous time on a loaded two-core machine.
describe('twofold webhooks (CLI)', { timeout: 120_000 }, () => {
  const root = mkdtempSync(join(tmpdir(), 'twofold-webhooks-cli-'));
  const dataDir = join(root, 'data');
  const outputs: string[] = [];
  let receiver: Receiver;
  let endpointId: string;
  let secret: string;

  /** Logs at info, so a secret printed to the log would be seen (outputs). */
  async function twofold(args: string[]): Promise<CliRun> {
    const run = await runCli(args, { root, dataDir }, { env: { TWOFOLD_LOG_LEVEL: 'info' } });
    outputs.push(run.stdout, run.stderr);
    return run;
  }

  const withStore = <T>(run: (deps: AuthDeps) => Promise<T>): Promise<T> => withCliStore({ root, dataDir }, run);

  beforeAll(async () => {
    receiver = new Receiver(await freePort());
    await receiver.start();
  });

  afterAll(async () => {
    await receiver.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('adds an endpoint and prints its secret once; refuses bad input with a clear message', async () => {
    expect((await twofold(['webhooks', 'list'])).stdout).toContain('No webhook endpoints.');
    const added = await twofold([
      'webhooks',
      'add',
      receiver.url,
      '--events',
      'session.revoked,token.theft_detected',
      '--description',
      'SIEM',
    ]);
    expect(added.code).toBe(0);
    endpointId = /Added webhook endpoint (whk_[A-Za-z0-9_-]+)/.exec(added.stdout)![1]!;
    secret = /(whsec_[A-Za-z0-9+/=]+)/.exec(added.stdout)![1]!;

    const refused: Array<[string[], number, string]> = [
      [['webhooks', 'add', 'ftp://example.com/in', '--events', '*'], 1, 'url: only http and https URLs are accepted'],
      [['webhooks', 'add', 'example.com/in', '--events', '*'], 1, 'url: not an absolute URL'],
      [['webhooks', 'add', receiver.url, '--events', 'session.revokd'], 1, '"session.revokd" matches no webhook event type'],
      [['webhooks', 'add', receiver.url], 2, "required option '--events <types>' not specified"],
      [['webhooks', 'remove', 'whk_nonexistent'], 1, 'No such webhook endpoint.'],
      [['webhooks', 'deliveries', endpointId, '--limit', '0'], 2, '--limit'],
    ];
    for (const [args, code, message] of refused) {
      const run = await twofold(args);
      expect(run.code, args.join(' ')).toBe(code);
      expect(run.stderr).toContain(message);
      expect(run.stderr).not.toMatch(/\n\s+at /); // one line, no stack
    }

    const list = await twofold(['webhooks', 'list', '--json']);
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({ id: endpointId, url: receiver.url, events: ['session.revoked', 'token.theft_detected'], pending: 0 }),
    ]);
  });

  it('tests an endpoint, and queues what the CLI itself records for the server to deliver', async () => {
    const ok = await twofold(['webhooks', 'test', endpointId]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^Delivered msg_\S+: HTTP 204 in \d+ ms\.\n$/);
    const message = receiver.ofType('webhook.test')[0]!;
    expect(verifyStandardWebhook(secret, message.headers, message.body, Math.floor(Date.now() / 1000))).toBe(true);

    await receiver.stop();
    const down = await twofold(['webhooks', 'test', endpointId]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/not delivered: ECONNREFUSED; the server retries it from \d{4}-/);

    // An operator revokes a session from the CLI: the event is queued in the same store.
    const sessionId = await withStore(async (deps) => {
      const user = await addUser(deps, { username: 'dora', password: 'correct horse battery staple', isAdmin: false }, null);
      const now = deps.clock.now();
      const { session } = await issueSession(
        deps,
        user,
        'full',
        [
          { method: 'pwd', at: now },
          { method: 'otp', at: now },
        ],
        {
          ip: '203.0.113.5',
          userAgent: 'curl/8',
        },
      );
      return session.id;
    });
    expect((await twofold(['sessions', 'revoke', sessionId])).code).toBe(0);

    const log = JSON.parse((await twofold(['webhooks', 'deliveries', endpointId, '--json'])).stdout) as Array<{
      delivery: { eventType: string; status: string; attempts: number };
      attempts: Array<{ statusCode: number | null; error: string | null }>;
    }>;
    expect(log.map((e) => [e.delivery.eventType, e.delivery.status, e.delivery.attempts])).toEqual([
      ['session.revoked', 'pending', 0],
      ['webhook.test', 'pending', 1],
      ['webhook.test', 'delivered', 1],
    ]);
    expect(log[1]!.attempts).toEqual([expect.objectContaining({ statusCode: null, error: 'ECONNREFUSED' })]);
    const table = await twofold(['webhooks', 'deliveries', endpointId]);
    expect(table.stdout).toMatch(/^DELIVERY\s+EVENT\s+CREATED\s+STATUS\s+ATTEMPTS\s+LAST ANSWER\s+LAST MS\n/);
    expect(table.stdout).toContain('ECONNREFUSED');
  });

  it('removes the endpoint; the secret was printed by add only', async () => {
    const removed = await twofold(['webhooks', 'remove', endpointId]);
    expect(removed.stdout).toBe(`Removed webhook endpoint ${endpointId}.\n`);
    expect((await twofold(['webhooks', 'list'])).stdout).toContain('No webhook endpoints.');
    const key = secret.slice('whsec_'.length);
    expect(outputs.filter((text) => text.includes(key))).toHaveLength(1);
  });
});
