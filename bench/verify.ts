/**
 * npm run bench:verify — how close twofold's forward-auth check (GET /auth/request) comes to the
 * most a Node HTTP server can answer on this machine, with 10,000 and 1,000,000 stored sessions.
 *
 * For each case it measures, back to back and with the same wrk requests (rotating valid session
 * cookies): a bare node:http server answering 200 (the limit), then twofold. One JSON object per
 * line on stdout; progress on stderr. See bench/README.md.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { Agent, request as httpRequest } from 'node:http';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BENCH_USER_AGENT, benchToken, seedSessions, writeTokenFile } from './seed.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

interface Options {
  sessions: number[];
  connections: number[];
  warmup: number;
  duration: number;
  threads: number;
  rounds: number;
  /** Hot-set sizes: the largest is measured at every concurrency, smaller ones at the highest only. */
  samples: number[];
  allTokens: boolean;
  /** Request every token of the hot set once before measuring it (see prime()). */
  prime: boolean;
  mode: 'cookie' | 'bearer';
  dataDir: string;
  profileDir: string | null;
  /** Where server.mjs writes a timeline of the event loop's stalls per measured run (BENCH_TRACE_DIR). */
  traceDir: string | null;
  /** The twofold side: bench/server.mjs, or an experiment speaking the same IPC (bench/experiments/). */
  server: string;
  /** Also measure the bare server writing its answers once per loop turn, as the gate does (limit-server.mjs). */
  turnLimit: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    sessions: [10_000, 1_000_000],
    connections: [1, 50],
    warmup: 3,
    duration: 10,
    threads: 1,
    rounds: 2,
    samples: [10_000, 100_000],
    allTokens: true,
    prime: true,
    mode: 'cookie',
    dataDir: '/tmp/twofold-bench',
    profileDir: null,
    traceDir: null,
    server: join(here, 'server.mjs'),
    turnLimit: true,
  };
  const list = (v: string) => v.split(',').map((s) => Number(s.replace(/_/g, '')));
  for (const arg of argv) {
    const [key, value = ''] = arg.replace(/^--/, '').split('=');
    switch (key) {
      case 'sessions':
        options.sessions = list(value);
        break;
      case 'connections':
        options.connections = list(value);
        break;
      case 'warmup':
        options.warmup = Number(value);
        break;
      case 'duration':
        options.duration = Number(value);
        break;
      case 'threads':
        options.threads = Number(value);
        break;
      case 'rounds':
        options.rounds = Math.max(1, Number(value));
        break;
      case 'sample':
        options.samples = list(value).sort((a, b) => a - b);
        break;
      case 'no-prime':
        options.prime = false;
        break;
      case 'no-all-tokens':
        options.allTokens = false;
        break;
      case 'no-turn-limit':
        options.turnLimit = false;
        break;
      case 'bearer':
        options.mode = 'bearer';
        break;
      case 'data-dir':
        options.dataDir = resolve(value);
        break;
      case 'profile':
        options.profileDir = resolve(value || '/tmp/twofold-bench/profiles');
        break;
      case 'trace':
        options.traceDir = resolve(value || '/tmp/twofold-bench/traces');
        break;
      case 'server':
        options.server = resolve(value);
        break;
      case 'quick':
        options.warmup = 1;
        options.duration = 3;
        break;
      case 'help':
        process.stderr.write(
          'usage: npm run bench:verify -- [--sessions=10000,1000000] [--connections=1,50] [--warmup=3] [--duration=10]\n' +
            '       [--threads=1] [--rounds=2] [--sample=10000,100000] [--no-all-tokens] [--no-prime] [--bearer] [--data-dir=/tmp/twofold-bench] [--profile[=dir]] [--trace[=dir]] [--server=bench/server.mjs] [--no-turn-limit] [--quick]\n',
        );
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${arg} (try --help)`);
    }
  }
  return options;
}

const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Child {
  process: ChildProcess;
  port: number;
  stats(): Promise<Stats>;
  /** Sends a message and waits for the answer of the given type. */
  ask<T>(message: Record<string, unknown>, answer: string): Promise<T>;
  stop(): Promise<void>;
}

interface Stats {
  memory: NodeJS.MemoryUsage;
  cacheSize?: number;
  storeLookups?: number;
  touches?: number;
  /** Since the previous stats message. */
  loopDelayP99Ms?: number;
  loopDelayMaxMs?: number;
  gcPauseMs?: number;
  gcMaxPauseMs?: number;
  gcMinorCount?: number;
  gcMinorMs?: number;
  gcMinorMaxMs?: number;
  gcOtherMaxMs?: number;
}

/** Starts a server script in its own process and waits for its port. */
/** Every server this run started, so that an error or Ctrl-C does not leave one running. */
const children = new Set<ChildProcess>();
const killChildren = () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
};
process.on('exit', killChildren);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killChildren();
    process.exit(130);
  });
}

async function startChild(script: string, env: Record<string, string>, nodeFlags: string[] = []): Promise<Child> {
  // execArgv: only what is asked, so the servers do not inherit tsx's loader from this process: they run plain compiled JS.
  const child = fork(resolve(here, script), [], {
    env: { ...process.env, ...env },
    execArgv: nodeFlags,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const port = await new Promise<number>((resolvePort, reject) => {
    const onExit = (code: number | null) => reject(new Error(`${script} exited with ${code} before it was ready`));
    child.once('exit', onExit);
    child.once('message', (msg: { type?: string; port?: number }) => {
      child.off('exit', onExit);
      if (msg?.type === 'ready' && msg.port) resolvePort(msg.port);
      else reject(new Error(`${script} said ${JSON.stringify(msg)}`));
    });
  });
  // A child that dies meanwhile fails the bench at once instead of leaving it waiting for ever.
  const ask = <T>(message: Record<string, unknown>, answer: string) =>
    new Promise<T>((resolveAnswer, rejectAnswer) => {
      const onExit = (code: number | null, signal: string | null) =>
        rejectAnswer(new Error(`${script} exited (${signal ?? code}) before answering ${JSON.stringify(message)}`));
      const onMessage = (msg: T & { type?: string }) => {
        if (msg?.type !== answer) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolveAnswer(msg);
      };
      if (child.exitCode !== null || child.signalCode !== null) return onExit(child.exitCode, child.signalCode);
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send(message);
    });
  return {
    process: child,
    port,
    ask,
    stats: () => ask<Stats>({ type: 'stats' }, 'stats'),
    stop: () =>
      new Promise<void>((resolveStop) => {
        if (child.exitCode !== null) return resolveStop();
        child.once('exit', () => resolveStop());
        child.kill('SIGTERM');
      }),
  };
}

/** Peak and current resident memory of a process, from /proc (Linux). */
function memoryOf(pid: number): { rssMb: number; peakRssMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rssMb: round(kb('VmRSS') / 1024, 1), peakRssMb: round(kb('VmHWM') / 1024, 1) };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  return ticks / 100; // USER_HZ is 100 on Linux
}

interface WrkResult {
  requests: number;
  duration_us: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  p999_us: number;
  max_us: number;
  mean_us: number;
  err_connect: number;
  err_read: number;
  err_write: number;
  err_status: number;
  err_timeout: number;
}

function runWrk(port: number, connections: number, seconds: number, tokenFile: string, options: Options): WrkResult {
  const threads = Math.min(options.threads, connections);
  const out = execFileSync(
    'wrk',
    [
      `-t${threads}`,
      `-c${connections}`,
      `-d${seconds}s`,
      '--timeout',
      '5s',
      '-s',
      join(here, 'rotate.lua'),
      `http://127.0.0.1:${port}`,
      '--',
      tokenFile,
      options.mode,
      'https://app.example.com/x',
    ],
    { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
  );
  const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '));
  if (!line) throw new Error(`wrk printed no result:\n${out}`);
  return JSON.parse(line.slice('WRK_JSON '.length)) as WrkResult;
}

/** Jiffies of the whole machine: busy (everything but idle and iowait) and total, from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - fields[3]! - fields[4]!, total };
}

/** CPU seconds of this process's waited-for children (cutime + cstime): wrk, once execFileSync returns. */
function childrenCpuSeconds(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

interface Run {
  wrk: WrkResult;
  seconds: number;
  /** Cores used over the run: the server, wrk, and everything else on the machine (other work, not ours). */
  serverCpu: number;
  wrkCpu: number;
  otherCpu: number;
}

/** One wrk run against a server, with the CPU each party used meanwhile. */
function run(server: Child, connections: number, seconds: number, tokenFile: string, options: Options): Run {
  const pid = server.process.pid!;
  const server0 = cpuSecondsOf(pid);
  const wrk0 = childrenCpuSeconds();
  const self0 = process.cpuUsage();
  const machine0 = machineTicks();
  const wrk = runWrk(server.port, connections, seconds, tokenFile, options);
  const machine1 = machineTicks();
  const self = process.cpuUsage(self0);
  const elapsed = wrk.duration_us / 1e6;
  const serverCpu = (cpuSecondsOf(pid) - server0) / elapsed;
  const wrkCpu = (childrenCpuSeconds() - wrk0) / elapsed;
  const machineCpu = (machine1.busy - machine0.busy) / 100 / elapsed;
  const selfCpu = (self.user + self.system) / 1e6 / elapsed;
  return { wrk, seconds: elapsed, serverCpu, wrkCpu, otherCpu: Math.max(0, machineCpu - serverCpu - wrkCpu - selfCpu) };
}

interface Measurement {
  rps: number;
  requests: number;
  seconds: number;
  /** Mean of the rounds' medians; the worst round's p90/p99/p99.9/max (wrk gives percentiles per run, which do not merge). */
  p50Us: number;
  p90Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  non2xx: number;
  socketErrors: number;
  serverCpu: number;
  wrkCpu: number;
  otherCpu: number;
}

function summarize(runs: Run[]): Measurement {
  const sum = (f: (r: Run) => number) => runs.reduce((a, r) => a + f(r), 0);
  const max = (f: (r: Run) => number) => Math.max(...runs.map(f));
  const seconds = sum((r) => r.seconds);
  const weighted = (f: (r: Run) => number) => sum((r) => f(r) * r.seconds) / seconds;
  const requests = sum((r) => r.wrk.requests);
  return {
    rps: requests / seconds,
    requests,
    seconds,
    p50Us: sum((r) => r.wrk.p50_us) / runs.length,
    p90Us: max((r) => r.wrk.p90_us),
    p99Us: max((r) => r.wrk.p99_us),
    p999Us: max((r) => r.wrk.p999_us),
    maxUs: max((r) => r.wrk.max_us),
    non2xx: sum((r) => r.wrk.err_status),
    socketErrors: sum((r) => r.wrk.err_connect + r.wrk.err_read + r.wrk.err_write + r.wrk.err_timeout),
    serverCpu: weighted((r) => r.serverCpu),
    wrkCpu: weighted((r) => r.wrkCpu),
    otherCpu: weighted((r) => r.otherCpu),
  };
}

/**
 * One case: both servers warmed up, then `rounds` alternations of limit and twofold runs (the
 * measured time split evenly), so a slow spell of the machine weighs on both sides alike.
 */
async function measurePair(
  limit: Child,
  turnLimit: Child | undefined,
  twofold: Child,
  connections: number,
  tokenFile: string,
  options: Options,
  hooks: {
    beforeMeasure?: () => Promise<void>;
    afterMeasure?: () => Promise<void>;
    /** Around each of twofold's measured runs (not the limit's, while twofold idles). */
    aroundVerifyRun?: (open: boolean) => Promise<void>;
  },
): Promise<{ limit: Measurement; turnLimit: Measurement | undefined; verify: Measurement }> {
  if (options.warmup > 0) {
    runWrk(limit.port, connections, options.warmup, tokenFile, options);
    if (turnLimit) runWrk(turnLimit.port, connections, options.warmup, tokenFile, options);
    runWrk(twofold.port, connections, options.warmup, tokenFile, options);
  }
  const seconds = Math.max(1, Math.round(options.duration / options.rounds));
  const limitRuns: Run[] = [];
  const turnLimitRuns: Run[] = [];
  const verifyRuns: Run[] = [];
  await hooks.beforeMeasure?.();
  for (let i = 0; i < options.rounds; i++) {
    limitRuns.push(run(limit, connections, seconds, tokenFile, options));
    if (turnLimit) turnLimitRuns.push(run(turnLimit, connections, seconds, tokenFile, options));
    await hooks.aroundVerifyRun?.(true);
    verifyRuns.push(run(twofold, connections, seconds, tokenFile, options));
    await hooks.aroundVerifyRun?.(false);
  }
  await hooks.afterMeasure?.();
  return { limit: summarize(limitRuns), turnLimit: turnLimit ? summarize(turnLimitRuns) : undefined, verify: summarize(verifyRuns) };
}

/** One request by hand before any load: the seeded token must be accepted, or the bench is measuring 401s. */
async function sanityCheck(port: number, mode: Options['mode']): Promise<void> {
  const token = benchToken(0);
  const headers: Record<string, string> = { 'X-Original-URL': 'https://app.example.com/x', 'User-Agent': BENCH_USER_AGENT };
  if (mode === 'bearer') headers.Authorization = `Bearer ${token}`;
  else headers.Cookie = `twofold_session=${token}`;
  const res = await fetch(`http://127.0.0.1:${port}/auth/request`, { headers });
  if (res.status !== 200 || res.headers.get('remote-user') !== 'bench') {
    throw new Error(
      `twofold answered ${res.status} (remote-user ${res.headers.get('remote-user')}) to a seeded session: ${await res.text()}`,
    );
  }
}

/**
 * One request per token of the hot set, 50 at a time, before it is measured: the state of a server
 * that has been running, where the session cache holds the sessions in use (the hot set is at most
 * session_cache.max_entries). Without it a 3 s warm-up leaves most of a 100,000-token set cold and
 * the measurement is of filling the cache. Every answer must be 200. Returns the seconds it took.
 */
async function prime(port: number, tokenFile: string, mode: Options['mode']): Promise<number> {
  const started = performance.now();
  const tokens = readFileSync(tokenFile, 'utf8').split('\n').filter(Boolean);
  const agent = new Agent({ keepAlive: true, maxSockets: 50 });
  let next = 0;
  let refused = 0;
  const one = (token: string) =>
    new Promise<void>((resolveOne, reject) => {
      const headers: Record<string, string> = { 'X-Original-URL': 'https://app.example.com/x', 'User-Agent': BENCH_USER_AGENT };
      if (mode === 'bearer') headers.Authorization = `Bearer ${token}`;
      else headers.Cookie = `twofold_session=${token}`;
      const req = httpRequest({ host: '127.0.0.1', port, path: '/auth/request', headers, agent }, (res) => {
        if (res.statusCode !== 200) refused++;
        res.resume();
        res.on('end', () => resolveOne());
      });
      req.on('error', reject);
      req.end();
    });
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (next < tokens.length) await one(tokens[next++]!);
    }),
  );
  agent.destroy();
  if (refused > 0) throw new Error(`priming: ${refused} of ${tokens.length} seeded sessions were refused`);
  return (performance.now() - started) / 1000;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  try {
    execFileSync('wrk', ['-v'], { stdio: 'ignore' });
  } catch (err) {
    // wrk -v exits 1 after printing its version; only a missing binary is a problem.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('wrk is not installed (Debian: apt-get install wrk)');
  }
  if (!existsSync(join(root, 'dist/src/app.js')))
    throw new Error('dist/ is missing: run `npm run build` first (npm run bench:verify does)');
  mkdirSync(options.dataDir, { recursive: true });
  if (options.profileDir) mkdirSync(options.profileDir, { recursive: true });

  const started = performance.now();
  const cores = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  log(
    `${cores} cores, node ${process.version}, wrk -t${options.threads}, warm-up ${options.warmup}s per server, measure ${options.duration}s per server in ${options.rounds} alternating round(s)`,
  );
  // BENCH_LIMIT_FLAGS: Node or V8 flags for the bare servers, as BENCH_SERVER_FLAGS for twofold's.
  const limitFlags = process.env.BENCH_LIMIT_FLAGS?.split(/\s+/).filter(Boolean);
  const limit = await startChild('limit-server.mjs', {}, limitFlags);
  const turnLimit = options.turnLimit ? await startChild('limit-server.mjs', { BENCH_LIMIT_WRITES: 'turn' }, limitFlags) : undefined;

  for (const sessions of options.sessions) {
    const dataDir = join(options.dataDir, `sessions-${sessions}`);
    log(`seeding ${sessions} sessions in ${dataDir}`);
    const seeded = await seedSessions(dataDir, sessions);
    log(`seeded in ${round(seeded.seedSeconds, 1)}s, database ${round(seeded.dbBytes / 2 ** 20, 1)} MiB`);

    // Which tokens the load rotates over, each a random sample of the stored sessions (a hot set,
    // primed): the largest sample (or every session, when fewer) at every concurrency; smaller
    // samples at the highest concurrency only (same activity as a smaller store: what the stored
    // count alone costs); and all sessions, not primed, at the highest concurrency (10x the cache:
    // the miss path).
    const rotations: Array<{ tokens: number; file: string; connections: number[]; primed: boolean }> = [];
    const highest = [Math.max(...options.connections)];
    const hot = [...new Set(options.samples.map((n) => Math.min(n, sessions)))].sort((a, b) => b - a);
    for (const [i, size] of hot.entries()) {
      const file = join(dataDir, `tokens-hot-${size}.txt`);
      writeTokenFile(file, sessions, size);
      rotations.push({ tokens: size, file, connections: i === 0 ? options.connections : highest, primed: options.prime });
    }
    if (options.allTokens && sessions > hot[0]!) {
      const file = join(dataDir, 'tokens-all.txt');
      writeTokenFile(file, sessions, sessions);
      rotations.push({ tokens: sessions, file, connections: highest, primed: false });
    }

    const twofold = await startChild(
      options.server,
      { BENCH_DATA_DIR: dataDir, ...(options.traceDir ? { BENCH_TRACE_DIR: options.traceDir } : {}) },
      // Node or V8 flags for twofold's process alone (e.g. --trace-deopt, which NODE_OPTIONS refuses).
      process.env.BENCH_SERVER_FLAGS?.split(/\s+/).filter(Boolean),
    );
    await sanityCheck(twofold.port, options.mode);
    const startRss = memoryOf(twofold.process.pid!);
    log(`twofold listening on ${twofold.port}, RSS ${startRss.rssMb} MB after start`);

    for (const rotation of rotations) {
      const primed = rotation.primed;
      if (primed) {
        log(`priming: one request per token of the ${rotation.tokens} hot sessions`);
        log(`primed in ${round(await prime(twofold.port, rotation.file, options.mode), 1)}s`);
      }
      for (const connections of rotation.connections) {
        log(`${connections} connection(s), ${rotation.tokens} tokens: limit and twofold, ${options.rounds} round(s)`);
        let before: Stats | undefined;
        const profilePath = options.profileDir
          ? join(options.profileDir, `twofold-${sessions}s-${rotation.tokens}t-${connections}c.cpuprofile`)
          : null;
        const {
          limit: base,
          turnLimit: turnBase,
          verify,
        } = await measurePair(limit, turnLimit, twofold, connections, rotation.file, options, {
          beforeMeasure: async () => {
            before = await twofold.stats();
            if (profilePath) await twofold.ask({ type: 'profile-start' }, 'profile-start-done');
          },
          afterMeasure: async () => {
            if (profilePath) await twofold.ask({ type: 'profile-stop', path: profilePath }, 'profile-stop-done');
          },
          // GC pauses and event-loop delay are counted during twofold's own runs only.
          aroundVerifyRun: async (open) => {
            await twofold.ask({ type: 'window', open, label: `${sessions}s-${rotation.tokens}t-${connections}c` }, 'window-done');
          },
        });
        const after = await twofold.stats();
        const memory = memoryOf(twofold.process.pid!);
        const ms = (us: number) => round(us / 1000, 3);
        const result = {
          limit_rps: Math.round(base.rps),
          verify_rps: Math.round(verify.rps),
          ratio: round(verify.rps / base.rps, 3),
          p50_ms: ms(verify.p50Us),
          p99_ms: ms(verify.p99Us),
          sessions,
          connections,
          tokens: rotation.tokens,
          primed,
          p90_ms: ms(verify.p90Us),
          p999_ms: ms(verify.p999Us),
          max_ms: ms(verify.maxUs),
          limit_p50_ms: ms(base.p50Us),
          limit_p99_ms: ms(base.p99Us),
          limit_p999_ms: ms(base.p999Us),
          limit_max_ms: ms(base.maxUs),
          // The bare server writing as the gate does (once per loop turn): how much of the ratio is that way of writing.
          ...(turnBase ? { turn_limit_rps: Math.round(turnBase.rps), ratio_to_turn_limit: round(verify.rps / turnBase.rps, 3) } : {}),
          // Cores used during the measured runs: the server under test, wrk, and the rest of the
          // machine (work that is not the bench's: a high value means a disturbed measurement).
          verify_cpu: round(verify.serverCpu),
          verify_wrk_cpu: round(verify.wrkCpu),
          limit_cpu: round(base.serverCpu),
          limit_wrk_cpu: round(base.wrkCpu),
          other_cpu: round((verify.otherCpu * verify.seconds + base.otherCpu * base.seconds) / (verify.seconds + base.seconds)),
          // Over twofold's measured runs: requests, reads behind the session cache (misses) and touch writes.
          requests: verify.requests,
          store_lookups: (after.storeLookups ?? 0) - (before?.storeLookups ?? 0),
          touches: (after.touches ?? 0) - (before?.touches ?? 0),
          cache_hit_ratio: round(1 - ((after.storeLookups ?? 0) - (before?.storeLookups ?? 0)) / Math.max(1, verify.requests), 3),
          cache_entries: after.cacheSize ?? 0,
          // During twofold's measured runs (not the limit's, while it idles): event-loop blocking and
          // GC pauses in twofold, the usual sources of its tail latency.
          loop_delay_p99_ms: round(after.loopDelayP99Ms ?? 0, 2),
          loop_delay_max_ms: round(after.loopDelayMaxMs ?? 0, 2),
          gc_pause_ms_per_s: round((after.gcPauseMs ?? 0) / verify.seconds, 1),
          gc_max_pause_ms: round(after.gcMaxPauseMs ?? 0, 2),
          // Scavenges (what checks allocate) apart from the mark-compact pauses (what the heap holds).
          gc_scavenges_per_s: round((after.gcMinorCount ?? 0) / verify.seconds, 1),
          gc_scavenge_mean_ms: round((after.gcMinorMs ?? 0) / Math.max(1, after.gcMinorCount ?? 0), 2),
          gc_scavenge_max_ms: round(after.gcMinorMaxMs ?? 0, 2),
          gc_major_max_pause_ms: round(after.gcOtherMaxMs ?? 0, 2),
          rss_mb: memory.rssMb,
          peak_rss_mb: memory.peakRssMb,
          heap_used_mb: round(after.memory.heapUsed / 2 ** 20, 1),
          non_2xx: verify.non2xx,
          socket_errors: verify.socketErrors,
          valid: [verify, base, turnBase].every((m) => m === undefined || (m.non2xx === 0 && m.socketErrors === 0)),
          duration_s: round(verify.seconds, 2),
          rounds: options.rounds,
          warmup_s: options.warmup,
          mode: options.mode,
          cores,
        };
        process.stdout.write(`${JSON.stringify(result)}\n`);
        if (profilePath) log(`profile: ${profilePath} (node bench/profile-top.mjs ${profilePath})`);
        await sleep(200);
      }
    }
    await twofold.stop();
  }
  await limit.stop();
  await turnLimit?.stop();
  log(`done in ${round((performance.now() - started) / 1000, 1)}s`);
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench] failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
