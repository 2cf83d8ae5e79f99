/**
 * twofold as `twofold serve` runs it (createDeps + buildServer with its pino logger, log_level
 * warn), from the compiled dist/ (npm run build): no TypeScript loader in the measured process, so
 * its RSS is the production one. Started by verify.ts as a child process, so the load generator and
 * the server never share an event loop. Talks to its parent over IPC: 'ready' with the port, then
 * 'stats' whenever asked.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Session } from 'node:inspector/promises';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { constants as perf, monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';

// BENCH_DIST compares builds (A/B): a directory holding src/ compiled, default ../dist.
const dist = pathToFileURL(resolve(process.env.BENCH_DIST ?? new URL('../dist', import.meta.url).pathname)).href;
// First, as `twofold serve` does before anything else loads (cli/hold-tick-shape.ts; absent from older builds).
await import(`${dist}/src/cli/hold-tick-shape.js`).catch(() => undefined);
const { createDeps } = await import(`${dist}/src/app.js`);
const { loadConfig } = await import(`${dist}/src/config.js`);
const { buildServer } = await import(`${dist}/src/http/server.js`);
// As `twofold serve` does before createDeps (absent from builds before it existed: A/B against older commits).
const { applyHeapGrowth } = await import(`${dist}/src/cli/heap-growth.js`).catch(() => ({ applyHeapGrowth: () => undefined }));

const dataDir = process.env.BENCH_DATA_DIR;
if (!dataDir) throw new Error('BENCH_DATA_DIR is required');

// Only the bench's own settings: a twofold.yaml or TWOFOLD_* variables of the shell do not leak in.
const config = loadConfig({
  env: {},
  file: process.env.BENCH_CONFIG_FILE,
  overrides: {
    data_dir: dataDir,
    host: '127.0.0.1',
    port: Number(process.env.BENCH_PORT ?? 0),
    public_url: 'http://127.0.0.1',
    log_level: process.env.BENCH_LOG_LEVEL ?? 'warn',
  },
});
applyHeapGrowth(config.heapGrowthPercent);
const { applyParallelScavenge } = await import(`${dist}/src/cli/parallel-scavenge.js`).catch(() => ({
  applyParallelScavenge: () => undefined,
}));
applyParallelScavenge(config.parallelScavenge ?? 'auto');
const deps = await createDeps(config);

// Counts the store reads behind the session cache (cache misses) and the touch writes, so the
// parent can report how much of the load the cache absorbed. One increment each: not measurable.
const counters = { storeLookups: 0, touches: 0 };
const sessions = deps.store.sessions;
const findByTokenHash = sessions.findByTokenHash;
const touch = sessions.touch;
sessions.findByTokenHash = (hash) => {
  counters.storeLookups++;
  return findByTokenHash.call(sessions, hash);
};
sessions.touch = (id, lastSeenAt, idleExpiresAt) => {
  counters.touches++;
  return touch.call(sessions, id, lastSeenAt, idleExpiresAt);
};

// Where tail latency comes from: how long the event loop was blocked, and GC pauses, since the
// previous 'stats' message, counted only while the parent has a window open ('window' messages
// around each of twofold's measured runs; open until the first): GC pauses summed, event-loop
// delay as the worst window's p99 and max (as wrk's p99 is the worst round's).
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
/** The worst p99 and max of the windows closed since the last 'stats' (loopDelay holds the open one's). */
const delays = { p99Ns: 0, maxNs: 0 };
const closeDelayWindow = () => {
  if (loopDelay.count === 0) return;
  delays.p99Ns = Math.max(delays.p99Ns, loopDelay.percentile(99));
  delays.maxNs = Math.max(delays.maxNs, loopDelay.max);
};
let windowOpen = true;
// Scavenges (young generation) apart from the rest (mark-compact and its incremental steps): they
// have different causes (what each request allocates; what the heap holds).
const gc = { totalMs: 0, maxMs: 0, minorCount: 0, minorMs: 0, minorMaxMs: 0, otherMaxMs: 0 };
// BENCH_TRACE_DIR (verify.ts --trace): see below.
const traceDir = process.env.BENCH_TRACE_DIR;
/** What --trace keeps of the open window: [kind, start ms, duration ms, detail]. */
const traced = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (!windowOpen) continue;
    gc.totalMs += entry.duration;
    gc.maxMs = Math.max(gc.maxMs, entry.duration);
    const minor = entry.detail?.kind === perf.NODE_PERFORMANCE_GC_MINOR;
    if (traceDir) traced.push(['gc', entry.startTime, entry.duration, minor ? 'scavenge' : 'other']);
    if (minor) {
      gc.minorCount++;
      gc.minorMs += entry.duration;
      gc.minorMaxMs = Math.max(gc.minorMaxMs, entry.duration);
    } else gc.otherMaxMs = Math.max(gc.otherMaxMs, entry.duration);
  }
}).observe({ entryTypes: ['gc'] });

// BENCH_TRACE_DIR (verify.ts --trace): what fell inside each stall of the event loop during a measured
// window. A 1 ms timer more than 4 ms late is a stall; each is listed with the GC pauses and the SQLite
// statements over 0.1 ms on this thread that started within it (or just before), followed by the
// slow statements by SQL text. Written as <dir>/<label>-<n>.txt when the window closes.
if (traceDir) {
  mkdirSync(traceDir, { recursive: true });
  const Database = createRequire(resolve(fileURLToPath(dist), 'src/app.js'))('better-sqlite3');
  const probe = new Database(':memory:');
  const statement = Object.getPrototypeOf(probe.prepare('SELECT 1'));
  probe.close();
  for (const method of ['get', 'all', 'run', 'iterate']) {
    const original = statement[method];
    statement[method] = function (...args) {
      const start = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        const ms = performance.now() - start;
        if (ms > 0.1 && windowOpen) traced.push(['sql', start, ms, this.source.replace(/\s+/g, ' ').slice(0, 60)]);
      }
    };
  }
  let tick = performance.now();
  setInterval(() => {
    const now = performance.now();
    if (now - tick > 4 && windowOpen) traced.push(['stall', tick, now - tick, '']);
    tick = now;
  }, 1).unref();
}
let traceWindows = 0;
function writeTrace(label) {
  const at = (e, from) => `${e[0]} +${(e[1] - from).toFixed(1)} ${e[2].toFixed(2)} ms${e[3] ? ` ${e[3]}` : ''}`;
  const stalls = traced.filter((e) => e[0] === 'stall');
  const lines = [`${stalls.length} stalls over 4 ms, longest ${Math.max(0, ...stalls.map((e) => e[2])).toFixed(1)} ms`];
  for (const stall of stalls) {
    const within = traced.filter((e) => e[0] !== 'stall' && e[1] >= stall[1] - 2 && e[1] <= stall[1] + stall[2]);
    lines.push(
      `${stall[1].toFixed(1)} stall ${stall[2].toFixed(1)} ms: ${within.map((e) => at(e, stall[1])).join(', ') || 'nothing traced'}`,
    );
  }
  const bySql = new Map();
  for (const e of traced) if (e[0] === 'sql') bySql.set(e[3], [...(bySql.get(e[3]) ?? []), e[2]]);
  for (const [sql, ms] of bySql)
    lines.push(
      `slow statement x${ms.length}, max ${Math.max(...ms).toFixed(2)} ms, sum ${ms.reduce((a, b) => a + b, 0).toFixed(1)} ms: ${sql}`,
    );
  writeFileSync(`${traceDir}/${label ?? 'window'}-${traceWindows++}.txt`, `${lines.join('\n')}\n`);
  traced.length = 0;
}

const app = await buildServer(deps);
await app.listen({ host: config.host, port: config.port });
const { port } = app.server.address();
if (process.send) process.send({ type: 'ready', port });
else process.stdout.write(`twofold bench server on http://127.0.0.1:${port} (data ${dataDir})\n`);

// CPU profile of a chosen window only (verify.ts --profile: the measured run of each case), so
// start-up and idle time do not dilute it. Written as a .cpuprofile (Chrome DevTools, speedscope).
let inspector;
async function profile(msg) {
  if (msg.type === 'profile-start') {
    inspector = new Session();
    inspector.connect();
    await inspector.post('Profiler.enable');
    await inspector.post('Profiler.setSamplingInterval', { interval: 100 });
    await inspector.post('Profiler.start');
  } else if (msg.type === 'profile-stop' && inspector) {
    const { profile: result } = await inspector.post('Profiler.stop');
    writeFileSync(msg.path, JSON.stringify(result));
    inspector.disconnect();
    inspector = undefined;
  }
  process.send?.({ type: `${msg.type}-done` });
}

process.on('message', (msg) => {
  if (msg?.type === 'stats') {
    if (windowOpen) closeDelayWindow();
    const window = {
      loopDelayP99Ms: delays.p99Ns / 1e6,
      loopDelayMaxMs: delays.maxNs / 1e6,
      gcPauseMs: gc.totalMs,
      gcMaxPauseMs: gc.maxMs,
      gcMinorCount: gc.minorCount,
      gcMinorMs: gc.minorMs,
      gcMinorMaxMs: gc.minorMaxMs,
      gcOtherMaxMs: gc.otherMaxMs,
    };
    loopDelay.reset();
    delays.p99Ns = delays.maxNs = 0;
    for (const key of Object.keys(gc)) gc[key] = 0;
    process.send?.({ type: 'stats', memory: process.memoryUsage(), cacheSize: deps.sessionCache.size, ...counters, ...window });
  }
  if (msg?.type === 'window') {
    if (msg.open === true) {
      loopDelay.reset();
      traced.length = 0;
    } else if (windowOpen) {
      closeDelayWindow();
      if (traceDir) writeTrace(msg.label);
    }
    windowOpen = msg.open === true;
    process.send?.({ type: 'window-done' });
  }
  if (msg?.type === 'profile-start' || msg?.type === 'profile-stop') void profile(msg);
  // bench/experiments/idle-gc.mjs (started with --expose-gc): full GCs, as an idle server gets them:
  // from a timer, since this message came in a tick, and a tick object alive keeps its maps alive.
  if (msg?.type === 'gc')
    setTimeout(() => {
      for (let i = 0; i < 5; i++) globalThis.gc?.();
      process.send?.({ type: 'gc-done' });
    }, 0);
});

const shutdown = async () => {
  await app.close();
  await deps.store.close();
  process.exit(0);
};
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
