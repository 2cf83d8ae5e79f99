// Experiment: does a server answer as fast after an idle moment and a few full GCs as before it?
// V8 lets hidden classes that no live object uses die in a full GC, and throws away the optimized
// code that embedded them; what it compiles again can be slower for good. That happened to Node's
// `process.nextTick` (src/http/tick-object-shape.ts): a bare node:http server lost about a quarter
// of its rate, twofold's gate spent 30% of its busy time in nextTick.
//
// Starts twofold (bench/server.mjs, BENCH_DIST=<dist> for another build) and the bare server
// (limit-server.mjs, which holds a tick object too; BENCH_LIMIT_HOLD_TICK=0: without it), each with
// --expose-gc, and for each: warms it up with wrk, measures, then `cycles` times lets it idle for
// 0.5 s, asks for five full GCs (V8 keeps unused maps through two), idles 0.5 s more and measures
// again. Every run is wrk at 50 connections with bench/rotate.lua.
//   node bench/experiments/idle-gc.mjs <data dir> <token file> [seconds=4] [cycles=2]
// e.g. node bench/experiments/idle-gc.mjs /tmp/twofold-bench/sessions-10000 \
//        /tmp/twofold-bench/sessions-10000/tokens-hot-10000.txt
// Prints one JSON line per server: rps before, rps after each cycle, and after / before.
import { execFileSync, fork } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

const [dataDir, tokenFile, secondsArg = '4', cyclesArg = '2'] = process.argv.slice(2);
if (!dataDir || !tokenFile) throw new Error('usage: idle-gc.mjs <data dir> <token file> [seconds] [cycles]');
const here = new URL('..', import.meta.url).pathname;

function start(script, env) {
  const child = fork(`${here}${script}`, [], {
    env: { ...process.env, ...env },
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    child.once('message', (msg) => resolve({ child, port: msg.port }));
  });
}

const ask = (child, type) =>
  new Promise((resolve) => {
    const onMessage = (msg) => {
      if (msg?.type !== `${type}-done`) return;
      child.off('message', onMessage);
      resolve();
    };
    child.on('message', onMessage);
    child.send({ type });
  });

function wrk(port, seconds) {
  const out = execFileSync(
    'wrk',
    [
      '-t1',
      '-c50',
      `-d${seconds}s`,
      '-s',
      `${here}rotate.lua`,
      `http://127.0.0.1:${port}`,
      '--',
      tokenFile,
      'cookie',
      'https://app.example.com/x',
    ],
    { encoding: 'utf8' },
  );
  const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '));
  const result = JSON.parse(line.slice('WRK_JSON '.length));
  if (result.err_status > 0) throw new Error(`${result.err_status} answers were not 2xx`);
  return Math.round(result.requests / (result.duration_us / 1e6));
}

const seconds = Number(secondsArg);
for (const [name, script, env] of [
  ['twofold', 'server.mjs', { BENCH_DATA_DIR: dataDir }],
  ['bare node:http', 'limit-server.mjs', {}],
]) {
  const { child, port } = await start(script, env);
  wrk(port, 3);
  const before = wrk(port, seconds);
  const after = [];
  for (let cycle = 0; cycle < Number(cyclesArg); cycle++) {
    await sleep(500);
    await ask(child, 'gc');
    await sleep(500);
    after.push(wrk(port, seconds));
  }
  child.kill('SIGTERM');
  const last = after.at(-1) ?? before;
  console.log(
    JSON.stringify({ server: name, rps_before: before, rps_after_gc: after, after_over_before: Math.round((last / before) * 1000) / 1000 }),
  );
}
process.exit(0);
