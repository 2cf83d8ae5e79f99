/**
 * Soak benchmark (npm run bench:soak): twofold as `twofold serve` runs it (SQLite, default
 * settings) under a steady mixed load for a bounded time — sign-ins with password + TOTP (cookie and
 * token sign-ins), forward-auth validations, refresh-token rotations, logouts — sampling latency
 * percentiles per operation, errors and the server's RSS over time. A bare node:http server
 * (limit-server.mjs) gets the same validation-shaped requests at the same rate in the same run, so
 * the latency ratio is measured under the same machine load. JSON lines on stdout (one per
 * interval, then a summary); progress on stderr. Exit 1 when any error occurred or RSS is not flat.
 * See bench/README.md ("Soak").
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  enrollLiveUser,
  LIVE_PASSWORD,
  LIVE_USER_AGENT,
  LiveClient,
  livePort,
  rssMb,
  seedLiveUsers,
  startLiveServer,
  writeLiveConfig,
  type LiveServer,
  type LiveUser,
} from '../test/support/live-server.js';

const env = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}: expected a positive number, got "${raw}"`);
  return value;
};

const SECONDS = env('TWOFOLD_SOAK_SECONDS', 240);
const INTERVAL_S = env('TWOFOLD_SOAK_INTERVAL', 10);
/** Operations per second, each issued on its own fixed schedule (open loop: a slow answer does not slow the schedule). */
const RATES = {
  validate: env('TWOFOLD_SOAK_VALIDATE_RATE', 50),
  signin: env('TWOFOLD_SOAK_SIGNIN_RATE', 1),
  refresh: env('TWOFOLD_SOAK_REFRESH_RATE', 2),
  revoke: env('TWOFOLD_SOAK_REVOKE_RATE', 1),
};
const USERS = env('TWOFOLD_SOAK_USERS', 50);
/** RSS growth over the second half above this (MB per minute, least-squares slope) fails the run. */
const MAX_RSS_SLOPE = env('TWOFOLD_SOAK_MAX_RSS_SLOPE', 5);
/**
 * twofold's RSS drops once, by 35-40 MB, about 90 s after the process starts, loaded or idle
 * (bench/README.md, "Soak"): the slope is only taken over samples after this many seconds of uptime,
 * so that one-off release cannot hide a growth.
 */
const SETTLE_S = env('TWOFOLD_SOAK_SETTLE_SECONDS', 150);
/** Fewer RSS samples (one a second) than this in the window: the run was too short to judge. */
const MIN_WINDOW_SAMPLES = 30;
/** More answers outstanding than this for one operation: the next one is dropped (and reported) rather than queued without bound. */
const MAX_IN_FLIGHT = 64;
const GATE_URL = 'https://app.example.com/reports';

type Op = 'signin' | 'validate' | 'refresh' | 'revoke' | 'reference_validate';
const OPS: Op[] = ['signin', 'validate', 'refresh', 'revoke', 'reference_validate'];

const log = (msg: string) => process.stderr.write(`[soak] ${msg}\n`);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

// ---------------------------------------------------------------------------------------------
// Measurements

class Samples {
  latencies: number[] = [];
  errors = 0;
  dropped = 0;
  inFlight = 0;
  errorExamples: string[] = [];
  error(what: string): void {
    this.errors++;
    if (this.errorExamples.length < 5) this.errorExamples.push(what);
  }
}

function percentiles(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : null);
  const round = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);
  return { n: sorted.length, p50_ms: round(at(0.5)), p95_ms: round(at(0.95)), p99_ms: round(at(0.99)) };
}

/** Least-squares slope of y over x. */
function slope(points: Array<{ x: number; y: number }>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const num = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

// ---------------------------------------------------------------------------------------------
// HTTP: one keep-alive client for both servers' validations, so neither side gets a cheaper client.

const agent = new Agent({ keepAlive: true, maxSockets: 32 });

function get(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((done, fail) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET', headers, agent }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode ?? 0));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end();
  });
}

function startReference(): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(new URL('./limit-server.mjs', import.meta.url).pathname, [], { env: { ...process.env, BENCH_PORT: '0' } });
  return new Promise((done, fail) => {
    child.once('error', fail);
    child.once('exit', (code) => fail(new Error(`reference server exited with ${code}`)));
    child.on('message', (msg: { type?: string; port?: number }) => {
      if (msg?.type === 'ready' && msg.port) done({ child, port: msg.port });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The load

interface Family {
  accessToken: string;
  refreshToken: string;
}

async function main(): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'twofold-soak-'));
  let server: LiveServer | undefined;
  let reference: { child: ChildProcess; port: number } | undefined;
  try {
    const configFile = writeLiveConfig(dataDir, await livePort(), {});
    const usernames = Array.from({ length: USERS }, (_, i) => `soak${i}`);
    log(`seeding ${USERS} users in ${dataDir}`);
    await seedLiveUsers(configFile, usernames);
    const serverStarted = performance.now();
    server = await startLiveServer(configFile);
    reference = await startReference();
    const port = Number(new URL(server.baseUrl).port);
    log(`twofold pid ${server.pid} on ${server.baseUrl}, reference on ${reference.port}; enrolling users`);

    const users: LiveUser[] = [];
    /** Cookie sessions in use (oldest first) and token sign-ins (oldest first). */
    const sessions: string[] = [];
    const families: Family[] = [];
    for (const username of usernames) {
      const client = new LiveClient(server);
      users.push(await enrollLiveUser(client, username));
      sessions.push(client.sessionToken!);
    }

    const samples = new Map<Op, Samples>(OPS.map((op) => [op, new Samples()]));
    const totals = new Map<Op, Samples>(OPS.map((op) => [op, new Samples()]));
    let skippedSignIns = 0;
    let nextUser = 0;

    /** Runs one timed operation; `work` resolves to an error description or undefined. */
    const timed = (op: Op, work: () => Promise<string | undefined>) => {
      const now = samples.get(op)!;
      const all = totals.get(op)!;
      if (all.inFlight >= MAX_IN_FLIGHT) {
        now.dropped++;
        all.dropped++;
        return;
      }
      all.inFlight++;
      const started = performance.now();
      work()
        .catch((err: Error) => `${err.message}`)
        .then((failure) => {
          const ms = performance.now() - started;
          all.inFlight--;
          if (failure === undefined) {
            now.latencies.push(ms);
            all.latencies.push(ms);
          } else {
            now.error(failure);
            all.error(failure);
          }
        });
    };

    const validationHeaders = (token: string) => ({
      cookie: `${server!.cookies.session}=${token}`,
      'x-original-url': GATE_URL,
      'user-agent': LIVE_USER_AGENT,
    });
    let validations = 0;
    const validate = () => {
      if (!sessions.length) return;
      const token = sessions[validations++ % sessions.length]!;
      const headers = validationHeaders(token);
      timed('validate', async () => {
        const status = await get(port, '/auth/request', headers);
        return status === 200 ? undefined : `validate: ${status}`;
      });
      timed('reference_validate', async () => {
        const status = await get(reference!.port, '/auth/request', headers);
        return status === 200 ? undefined : `reference: ${status}`;
      });
    };

    let signIns = 0;
    const signIn = () => {
      // The next user whose authenticator has an unspent step (each step works once per user).
      let user: LiveUser | undefined;
      let code: string | undefined;
      for (let tried = 0; tried < users.length && code === undefined; tried++) {
        user = users[nextUser++ % users.length]!;
        code = user.device.nextCode();
      }
      if (!user || code === undefined) {
        skippedSignIns++;
        return;
      }
      const tokens = signIns++ % 2 === 1;
      const who = user;
      timed('signin', async () => {
        const client = new LiveClient(server!);
        const login = await client.request('POST', '/api/v1/login', {
          body: { username: who.username, password: LIVE_PASSWORD, ...(tokens ? { session_type: 'tokens' } : {}) },
        });
        if (login.status !== 200 || login.json?.state !== 'second_factor_required')
          return `login: ${login.status} ${JSON.stringify(login.json)}`;
        const pending: string | undefined = login.json.pending_token;
        const done = await client.request('POST', '/api/v1/login/second-factor', {
          body: { method: 'totp', code },
          ...(pending ? { bearer: pending } : {}),
        });
        if (done.status !== 200 || done.json?.state !== 'authenticated')
          return `second factor: ${done.status} ${JSON.stringify(done.json)}`;
        if (tokens) families.push({ accessToken: done.json.access_token, refreshToken: done.json.refresh_token });
        else sessions.push(client.sessionToken!);
        return undefined;
      });
    };

    const refresh = () => {
      // Oldest family first; it goes back to the end with its new token (one refresh per family at a time).
      const family = families.shift();
      if (!family) return;
      timed('refresh', async () => {
        const res = await new LiveClient(server!).request('POST', '/api/v1/token', {
          body: { grant_type: 'refresh_token', refresh_token: family.refreshToken },
        });
        if (res.status !== 200) return `refresh: ${res.status} ${JSON.stringify(res.json)}`;
        families.push({ accessToken: res.json.access_token, refreshToken: res.json.refresh_token });
        return undefined;
      });
    };

    let revocations = 0;
    const revoke = () => {
      // Logouts keep the pools at their starting size: as many end as sign-ins add.
      const tokens = revocations++ % 2 === 1;
      if (tokens ? families.length < 5 : sessions.length <= USERS) return;
      if (tokens) {
        const family = families.shift()!;
        timed('revoke', async () => {
          const res = await new LiveClient(server!).request('POST', '/api/v1/logout', { bearer: family.accessToken });
          return res.status === 204 ? undefined : `token logout: ${res.status}`;
        });
      } else {
        // Out of the validation rotation first; the logout follows once validations already sent with it have answered.
        const token = sessions.shift()!;
        setTimeout(
          () =>
            timed('revoke', async () => {
              const res = await new LiveClient(server!).request('POST', '/api/v1/logout', {
                headers: { cookie: `${server!.cookies.session}=${token}` },
              });
              return res.status === 204 ? undefined : `logout: ${res.status}`;
            }),
          2000,
        );
      }
    };

    const rss: Array<{ t_s: number; twofold_mb: number; reference_mb: number; wal_mb: number }> = [];
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;
    // The WAL is checkpointed on a thread while the serving connection keeps writing (sign-ins,
    // rotations, logouts); its size over the run shows whether it starts over or keeps growing.
    const walMb = () => {
      try {
        return statSync(join(dataDir, 'twofold.db-wal')).size / 2 ** 20;
      } catch {
        return 0;
      }
    };
    const sampleRss = () =>
      rss.push({ t_s: elapsed(), twofold_mb: rssMb(server!.pid), reference_mb: rssMb(reference!.child.pid!), wal_mb: walMb() });
    sampleRss();

    log(`load for ${SECONDS} s: ${JSON.stringify(RATES)} per second, report every ${INTERVAL_S} s`);
    const timers = [
      setInterval(validate, 1000 / RATES.validate),
      setInterval(signIn, 1000 / RATES.signin),
      setInterval(refresh, 1000 / RATES.refresh),
      setInterval(revoke, 1000 / RATES.revoke),
      setInterval(sampleRss, 1000),
    ];
    // Interval boundaries at fixed times (INTERVAL_S, 2 x INTERVAL_S, …, SECONDS), so the run lasts SECONDS.
    for (let boundary = Math.min(INTERVAL_S, SECONDS); ; boundary = Math.min(boundary + INTERVAL_S, SECONDS)) {
      await sleep(Math.max(0, (boundary - elapsed()) * 1000));
      const t = elapsed();
      const last = rss.at(-1)!;
      const line: Record<string, unknown> = {
        type: 'interval',
        t_s: Math.round(t),
        rss_mb: round1(last.twofold_mb),
        wal_mb: round1(last.wal_mb),
      };
      for (const op of OPS) {
        const s = samples.get(op)!;
        line[op] = { ...percentiles(s.latencies), errors: s.errors, dropped: s.dropped };
        samples.set(op, new Samples());
      }
      line.reference_rss_mb = round1(last.reference_mb);
      line.validate_p50_ratio = ratio(line.validate, line.reference_validate, 'p50_ms');
      line.validate_p99_ratio = ratio(line.validate, line.reference_validate, 'p99_ms');
      line.sessions = sessions.length;
      line.families = families.length;
      process.stdout.write(`${JSON.stringify(line)}\n`);
      if (boundary >= SECONDS) break;
    }
    for (const timer of timers) clearInterval(timer);
    // Let the last answers arrive, so their errors count.
    for (let waited = 0; waited < 10_000 && OPS.some((op) => totals.get(op)!.inFlight > 0); waited += 100) await sleep(100);
    sampleRss();

    const duration = elapsed();
    // The second half of the run, and never before the start-up release (SETTLE_S of server uptime).
    const windowFrom = Math.max(duration / 2, SETTLE_S - (started - serverStarted) / 1000);
    const secondHalf = rss.filter((p) => p.t_s >= windowFrom);
    const judged = secondHalf.length >= MIN_WINDOW_SAMPLES;
    const rssSlope = slope(secondHalf.map((p) => ({ x: p.t_s / 60, y: p.twofold_mb })));
    const referenceSlope = slope(secondHalf.map((p) => ({ x: p.t_s / 60, y: p.reference_mb })));
    const errors = OPS.reduce((n, op) => n + totals.get(op)!.errors, 0);
    const summary: Record<string, unknown> = {
      type: 'summary',
      duration_s: Math.round(duration),
      rates_per_s: RATES,
      users: USERS,
      errors,
      error_examples: OPS.flatMap((op) => totals.get(op)!.errorExamples).slice(0, 5),
      dropped: Object.fromEntries(OPS.map((op) => [op, totals.get(op)!.dropped])),
      skipped_sign_ins: skippedSignIns,
    };
    for (const op of OPS) summary[op] = percentiles(totals.get(op)!.latencies);
    summary.validate_p50_ratio = ratio(summary.validate, summary.reference_validate, 'p50_ms');
    summary.validate_p99_ratio = ratio(summary.validate, summary.reference_validate, 'p99_ms');
    summary.rss_start_mb = round1(rss[0]!.twofold_mb);
    summary.rss_end_mb = round1(rss.at(-1)!.twofold_mb);
    summary.rss_max_mb = round1(Math.max(...rss.map((p) => p.twofold_mb)));
    summary.rss_slope_mb_per_min = round1(rssSlope, 2);
    summary.wal_max_mb = round1(Math.max(...rss.map((p) => p.wal_mb)));
    summary.wal_end_mb = round1(rss.at(-1)!.wal_mb);
    summary.reference_rss_slope_mb_per_min = round1(referenceSlope, 2);
    summary.rss_slope_limit_mb_per_min = MAX_RSS_SLOPE;
    summary.rss_window_from_s = Math.round(windowFrom);
    summary.rss_window_samples = secondHalf.length;
    summary.rss_flat = judged ? rssSlope <= MAX_RSS_SLOPE : null;
    if (!judged)
      summary.rss_verdict_note = `run too short: fewer than ${MIN_WINDOW_SAMPLES} RSS samples after ${SETTLE_S} s of server uptime`;
    summary.verdict = errors === 0 && summary.rss_flat === true ? 'pass' : 'fail';
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    log(`verdict: ${summary.verdict} (errors ${errors}, RSS slope ${round1(rssSlope, 2)} MB/min, limit ${MAX_RSS_SLOPE})`);
    return summary.verdict === 'pass' ? 0 : 1;
  } finally {
    await server?.stop();
    reference?.child.removeAllListeners('exit');
    reference?.child.kill('SIGTERM');
    agent.destroy();
    if (!process.env.TWOFOLD_SOAK_KEEP) rmSync(dataDir, { recursive: true, force: true });
  }
}

function round1(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function ratio(a: unknown, b: unknown, key: 'p50_ms' | 'p99_ms'): number | null {
  const x = (a as Record<string, number | null>)[key];
  const y = (b as Record<string, number | null>)[key];
  return x == null || y == null || y === 0 ? null : round1(x / y, 2);
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    log(`failed: ${err.stack ?? err.message}`);
    process.exit(2);
  },
);
