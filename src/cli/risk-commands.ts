import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { DEFAULT_TWOFOLD_SETTINGS } from '../core/risk/twofold-model.js';
import { evaluate, markdownTables, type ModelUnderTest } from '../risk/evaluate.js';
import { RbaCsvError, readRbaCsv, type RbaRow } from '../risk/rba-csv.js';
import { seedSignIns } from '../risk/seed.js';
import { createDeps } from '../app.js';
import { ManualClock } from '../core/clock.js';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { replay } from '../risk/replay.js';
import { DEFAULT_SIMULATION, simulate } from '../risk/simulate.js';
import { loadCliConfig } from './cli-config.js';
import { CliError } from './cli-error.js';

const positiveInt = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`${name}: expected a whole number, got "${value}"`, 2);
  return n;
};

async function closeFile(stream: Writable): Promise<void> {
  stream.end();
  await once(stream, 'finish');
}

function openInput(path: string) {
  const stream = createReadStream(path);
  return new Promise<typeof stream>((resolve, reject) => {
    stream.once('open', () => resolve(stream));
    stream.once('error', (err: NodeJS.ErrnoException) => reject(new CliError(`cannot read ${path}: ${err.code ?? err.message}`)));
  });
}

/** index,label,attacker_model lines → index → label. */
async function readLabels(input: Readable): Promise<Map<string, string>> {
  const labels = new Map<string, string>();
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    const [index, label] = line.split(',');
    if (index && label && index !== 'index') labels.set(index, label);
  }
  return labels;
}

/** `twofold risk …`: replay, simulate and evaluate the risk engine on RBA-schema data. */
export function registerRiskCommands(program: Command): void {
  const risk = program.command('risk').description('Measure the risk engine on sign-in data (docs/risk.md)');

  risk
    .command('replay')
    .description('Score every row of an RBA-schema CSV against the history of earlier rows; writes index,score,decision')
    .requiredOption('--input <file>', 'CSV in the RBA data set schema, sorted by Login Timestamp')
    .requiredOption('--output <file>', 'where to write index,score,decision')
    .option('--model <name>', 'freeman or twofold (default: risk.model of the configuration)')
    .option('--skip-malformed', 'report malformed lines and go on instead of stopping at the first')
    .action(async (options: { input: string; output: string; model?: string; skipMalformed?: boolean }) => {
      if (options.model !== undefined && options.model !== 'freeman' && options.model !== 'twofold') {
        throw new CliError(`--model: expected freeman or twofold, got "${options.model}"`, 2);
      }
      const config = loadCliConfig(program, options.model ? { 'risk.model': options.model } : {});
      const input = await openInput(options.input);
      const output = createWriteStream(options.output);
      const tty = process.stderr.isTTY;
      try {
        const summary = await replay(input, output, {
          engine: { model: config.risk.model, thresholds: config.risk.thresholds, retention: config.risk.retention },
          onMalformed: options.skipMalformed
            ? (err) => process.stderr.write(`${tty ? '\n' : ''}twofold: skipped ${err.message}\n`)
            : undefined,
          onProgress: tty ? (rows) => process.stderr.write(`\rreplayed ${rows.toLocaleString('en-US')} rows`) : undefined,
        });
        if (tty) process.stderr.write('\r');
        process.stderr.write(
          `replayed ${summary.rows} rows with the ${config.risk.model} model in ${summary.seconds.toFixed(1)} s` +
            `${summary.malformed ? `, skipped ${summary.malformed} malformed` : ''} → ${options.output}\n`,
        );
      } catch (err) {
        if (err instanceof RbaCsvError) throw new CliError(`${options.input}: ${err.message}`);
        throw err;
      } finally {
        await closeFile(output);
      }
    });

  risk
    .command('simulate')
    .description('Write a seeded synthetic data set in the RBA schema, with labels (legitimate, attacker model) in a separate file')
    .requiredOption('--output <file>', 'the data set (CSV, RBA schema plus Device ID, Latitude, Longitude)')
    .requiredOption('--labels <file>', 'index,label,attacker_model for every row')
    .option('--seed <n>', 'random seed', positiveInt('--seed'), DEFAULT_SIMULATION.seed)
    .option('--users <n>', 'legitimate users', positiveInt('--users'), DEFAULT_SIMULATION.users)
    .option('--days <n>', 'days of sign-ins', positiveInt('--days'), DEFAULT_SIMULATION.days)
    .option('--attacks <n>', 'attacks per attacker model', positiveInt('--attacks'), DEFAULT_SIMULATION.attacksPerModel)
    .action(async (options: { output: string; labels: string; seed: number; users: number; days: number; attacks: number }) => {
      const data = createWriteStream(options.output);
      const labels = createWriteStream(options.labels);
      const result = await simulate(
        { seed: options.seed, users: options.users, days: options.days, attacksPerModel: options.attacks, start: DEFAULT_SIMULATION.start },
        data,
        labels,
      );
      await Promise.all([closeFile(data), closeFile(labels)]);
      process.stderr.write(`wrote ${result.rows} rows (${result.attacks} attacks) to ${options.output}, labels to ${options.labels}\n`);
    });

  risk
    .command('seed')
    .description(
      'Play a simulated data set through the real sign-in use cases (accounts, TOTP, risk engine, sessions, audit trail) so the admin console shows realistic data',
    )
    .requiredOption('--input <file>', 'data set from "twofold risk simulate"')
    .option('--labels <file>', 'its labels file: attack rows then know the password but not the second factor')
    .option('--limit <n>', 'play at most this many rows (the first ones)', positiveInt('--limit'), 500)
    .option('--prefix <text>', 'account name prefix', 'sim-')
    .action(async (options: { input: string; labels?: string; limit: number; prefix: string }) => {
      const config = loadCliConfig(program);
      const rows: RbaRow[] = [];
      try {
        for await (const row of readRbaCsv(await openInput(options.input))) {
          if (rows.length >= options.limit) break;
          rows.push(row);
        }
      } catch (err) {
        if (err instanceof RbaCsvError) throw new CliError(`${options.input}: ${err.message}`);
        throw err;
      }
      const labels = options.labels ? await readLabels(await openInput(options.labels)) : undefined;
      // The rows' own times, shifted to end now: the clock is the seed's, not the wall's.
      const clock = new ManualClock(Date.now());
      const deps = await createDeps(config, { clock });
      try {
        // Nobody is meant to sign in to these demo accounts by hand: their password is random and not shown.
        const password = `${randomBytes(18).toString('base64url')}-Aa1`;
        const summary = await seedSignIns(deps, clock, rows, { prefix: options.prefix, password, ...(labels ? { labels } : {}) });
        process.stdout.write(
          `${JSON.stringify({ ...summary, from: new Date(summary.from).toISOString(), until: new Date(summary.until).toISOString() }, null, 2)}\n`,
        );
      } finally {
        await deps.store.close();
      }
    });

  risk
    .command('eval')
    .description('Re-authentication rate per attacker model, TPR and history size, and ROC AUC, for freeman and twofold')
    .requiredOption('--input <file>', 'data set from "twofold risk simulate"')
    .requiredOption('--labels <file>', 'its labels file')
    .option('--markdown', 'print Markdown tables instead of JSON')
    .action(async (options: { input: string; labels: string; markdown?: boolean }) => {
      const config = loadCliConfig(program);
      await openInput(options.input).then((s) => s.destroy());
      await openInput(options.labels).then((s) => s.destroy());
      const retention = config.risk.retention;
      const models: ModelUnderTest[] = [
        { name: 'freeman', engine: { model: 'freeman', thresholds: config.risk.thresholds, retention } },
        { name: 'twofold', engine: { model: 'twofold', thresholds: config.risk.thresholds, retention } },
        {
          name: 'twofold without device cookie',
          engine: {
            model: 'twofold',
            thresholds: config.risk.thresholds,
            retention,
            twofold: { ...DEFAULT_TWOFOLD_SETTINGS, useDeviceCookie: false },
          },
        },
      ];
      let results;
      try {
        results = await evaluate(options.input, options.labels, models);
      } catch (err) {
        if (err instanceof RbaCsvError) throw new CliError(`${options.input}: ${err.message}`);
        throw err;
      }
      process.stdout.write(options.markdown ? markdownTables(results) : `${JSON.stringify(results, null, 2)}\n`);
    });
}
