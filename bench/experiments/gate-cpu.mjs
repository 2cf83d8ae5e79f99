// Experiment: twofold's own CPU per forward-auth check, without sockets. The gate's direct path
// (gate-fast-path.ts, the code that answers GET /auth/request under wrk) is handed requests and
// responses that are plain objects, 50 per event-loop turn as under 50 connections, and the time
// is CPU time of this process (process.cpuUsage), so other processes on the machine matter less than
// they do to wrk's throughput. What it leaves out is node:http's own parsing and writing, which the
// bare server pays too. Use it to compare builds: BENCH_DIST=<other dist> runs another build.
//   node bench/experiments/gate-cpu.mjs <data dir> <token file> [seconds=10] [tokens=10000]
// e.g. node bench/experiments/gate-cpu.mjs /tmp/twofold-bench/sessions-1000000 \
//        /tmp/twofold-bench/sessions-1000000/tokens-hot-100000.txt 10 10000
// Prints one JSON line: checks, cpu_us_per_check (user + system), and the same for each second.
// GATE_CPU_ALLOCATIONS=1 instead samples what the measured checks allocate (V8's sampling heap
// profiler, garbage included) and prints the top allocating functions, in bytes per check.
// GATE_CPU_PRIMED=<n> primes the first n tokens of the file instead (more than are checked: a cache
// holding more sessions than are in use, as after the bench's 100k case).
import { readFileSync } from 'node:fs';
import { startGate } from './gate-driver.mjs';

const [dataDir, tokenFile, secondsArg = '10', tokensArg = '10000'] = process.argv.slice(2);
if (!dataDir || !tokenFile) throw new Error('usage: gate-cpu.mjs <data dir> <token file> [seconds] [tokens]');
const gate = await startGate(process.env.BENCH_DIST ?? new URL('../../dist', import.meta.url).pathname, dataDir);
const allTokens = readFileSync(tokenFile, 'utf8').trim().split('\n');
const tokens = allTokens.slice(0, Number(tokensArg));
const primed = allTokens.slice(0, Number(process.env.GATE_CPU_PRIMED ?? tokensArg));
const turn = () => new Promise((resolve) => setImmediate(resolve));

// Prime: every token once, so the cache holds them (as the bench's priming does).
for (let i = 0; i < primed.length; i += 50) {
  for (let j = i; j < Math.min(primed.length, i + 50); j++) gate.check(primed[j]);
  await turn();
  await turn();
}
const allocations = process.env.GATE_CPU_ALLOCATIONS === '1' ? await startAllocationSampling() : undefined;
const seconds = Number(secondsArg);
const perSecond = [];
const started = process.cpuUsage();
const startedAnswered = gate.answered;
for (let s = 0; s < seconds; s++) {
  const cpu = process.cpuUsage();
  const before = gate.answered;
  const until = performance.now() + 1000;
  while (performance.now() < until) {
    for (let j = 0; j < 50; j++) gate.check(tokens[Math.floor(Math.random() * tokens.length)]);
    await turn();
  }
  await turn();
  const used = process.cpuUsage(cpu);
  perSecond.push(Math.round(((used.user + used.system) / (gate.answered - before)) * 100) / 100);
}
const used = process.cpuUsage(started);
const checks = gate.answered - startedAnswered;
if (allocations) await allocations.report(checks);
console.log(
  JSON.stringify({
    checks,
    refused: gate.refused,
    cpu_us_per_check: Math.round(((used.user + used.system) / checks) * 100) / 100,
    per_second: perSecond,
  }),
);
await gate.close();
process.exit(0);

async function startAllocationSampling() {
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 512,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  return {
    async report(checks) {
      const { profile } = await session.post('HeapProfiler.stopSampling');
      const bySite = new Map();
      let total = 0;
      const walk = (node) => {
        const f = node.callFrame;
        const site = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${f.lineNumber + 1}`;
        bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
        total += node.selfSize;
        for (const child of node.children) walk(child);
      };
      walk(profile.head);
      console.log(`allocated ${Math.round(total / checks)} bytes per check (sampled), by function:`);
      for (const [site, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
        console.log(`${String(Math.round(bytes / checks)).padStart(7)}  ${site}`);
      }
    },
  };
}
