// Experiment: two builds' CPU per forward-auth check, compared in ONE process, slice by slice.
// gate-cpu.mjs runs one build per process, and on a shared machine two runs minutes apart differ
// by more than a change worth a microsecond. Here both builds are loaded side by side (each with its
// own copy of the data directory, its own deps and server), primed, and then driven in alternating
// slices (a few hundred checks each, 50 per event-loop turn, as under 50 connections), each slice
// timed with process.cpuUsage. A slow spell of the machine then weighs on neighbouring slices of
// both builds alike, and the median of the paired differences shows what the change is worth.
// Both builds share one heap, so a scavenge may fall in either's slice: GC is spread, not separated.
//   node bench/experiments/gate-cpu-ab.mjs <dist A> <dist B> <data dir> <token file> [seconds=20] [tokens=10000]
// e.g. node bench/experiments/gate-cpu-ab.mjs /tmp/base-wt/dist dist /tmp/twofold-bench/sessions-10000 \
//        /tmp/twofold-bench/sessions-10000/tokens-hot-10000.txt 20
// Prints one JSON line: median µs per check of A and of B, the median of B − A over the pairs of
// slices, and in how many pairs B used less CPU.
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGate } from './gate-driver.mjs';

const [distA, distB, dataDir, tokenFile, secondsArg = '20', tokensArg = '10000'] = process.argv.slice(2);
if (!distA || !distB || !dataDir || !tokenFile) {
  throw new Error('usage: gate-cpu-ab.mjs <dist A> <dist B> <data dir> <token file> [seconds] [tokens]');
}
const tokens = readFileSync(tokenFile, 'utf8').trim().split('\n').slice(0, Number(tokensArg));
const scratch = mkdtempSync(join(tmpdir(), 'gate-cpu-ab-'));

/** One build, started on its own copy of the data directory. */
async function start(dist, name) {
  const copy = join(scratch, name);
  cpSync(dataDir, copy, { recursive: true, filter: (path) => !/-(wal|shm)$/.test(path) });
  const gate = await startGate(dist, copy);
  return {
    /** 50 checks (random tokens, or `from` onwards), answered by the end of the next turn. */
    turn(from) {
      for (let j = 0; j < 50; j++) {
        gate.check(from === undefined ? tokens[Math.floor(Math.random() * tokens.length)] : tokens[(from + j) % tokens.length]);
      }
    },
    get answered() {
      return gate.answered;
    },
    get refused() {
      return gate.refused;
    },
    close: () => gate.close(),
  };
}

const nextTurn = () => new Promise((resolveTurn) => setImmediate(resolveTurn));
const builds = { a: await start(distA, 'a'), b: await start(distB, 'b') };

// Prime both (every token once, so both caches hold them), then warm both up.
for (const build of Object.values(builds)) {
  for (let i = 0; i < tokens.length; i += 50) {
    build.turn(i);
    await nextTurn();
    await nextTurn();
  }
}
const TURNS_PER_SLICE = 8;
async function slice(build) {
  const cpu = process.cpuUsage();
  const before = build.answered;
  for (let t = 0; t < TURNS_PER_SLICE; t++) {
    build.turn();
    await nextTurn();
  }
  await nextTurn();
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / (build.answered - before);
}
for (let i = 0; i < 200; i++) await slice(i % 2 ? builds.a : builds.b);

const a = [];
const b = [];
const until = performance.now() + Number(secondsArg) * 1000;
for (let i = 0; performance.now() < until; i++) {
  // Which goes first alternates too, so neither always follows the other's garbage.
  if (i % 2) {
    a.push(await slice(builds.a));
    b.push(await slice(builds.b));
  } else {
    b.push(await slice(builds.b));
    a.push(await slice(builds.a));
  }
}
const median = (values) => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)];
};
const round = (x) => Math.round(x * 1000) / 1000;
console.log(
  JSON.stringify({
    pairs: a.length,
    checks_per_slice: TURNS_PER_SLICE * 50,
    refused: builds.a.refused + builds.b.refused,
    a_us_per_check: round(median(a)),
    b_us_per_check: round(median(b)),
    median_b_minus_a_us: round(median(a.map((x, i) => b[i] - x))),
    b_lower_in: round(a.filter((x, i) => b[i] < x).length / a.length),
  }),
);
await builds.a.close();
await builds.b.close();
rmSync(scratch, { recursive: true, force: true });
process.exit(0);
