// The ceiling a Node check can reach: a bare node:http server answering 200 with no body, no
// parsing beyond what node:http does for every request. Run in its own process by verify.ts.
//
// BENCH_LIMIT_WRITES=turn: the same server writing its answers as twofold's gate does, together at
// the end of each poll phase (src/http/turn-writes.ts). Not the reference: a second one,
// so the report shows how much of twofold's ratio comes from that way of writing rather than from
// a cheaper check (bench/README.md).
import { createHook } from 'node:async_hooks';
import { createServer } from 'node:http';

// One of Node's tick objects held for the life of the process, as twofold holds one
// (src/http/tick-object-shape.ts): without it an idle moment and a few full GCs can leave
// process.nextTick compiled slower for good (bench/experiments/idle-gc.mjs: this server lost about a
// quarter of its rate). Nothing per request: it keeps the reference at its best, so twofold's ratio
// cannot read high because the reference fell into that state. BENCH_LIMIT_HOLD_TICK=0 leaves it out.
const held = [];
if (process.env.BENCH_LIMIT_HOLD_TICK !== '0') {
  const hook = createHook({ init: (_id, type, _trigger, resource) => type === 'TickObject' && held.push(resource) });
  hook.enable();
  process.nextTick(() => {});
  hook.disable();
}

const answer = (res) => {
  res.statusCode = 200;
  res.end();
};
let queued = [];
const flush = () => {
  const answers = queued;
  queued = [];
  for (const res of answers) answer(res);
};
const server = createServer(
  process.env.BENCH_LIMIT_WRITES === 'turn'
    ? (_req, res) => {
        queued.push(res);
        if (queued.length === 1) setImmediate(flush);
      }
    : (_req, res) => answer(res),
);
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.BENCH_PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address();
  if (process.send) process.send({ type: 'ready', port });
  else process.stdout.write(`limit server on http://127.0.0.1:${port}\n`);
});
process.on('message', (msg) => {
  if (msg?.type === 'stats') process.send?.({ type: 'stats', memory: process.memoryUsage() });
  // bench/experiments/idle-gc.mjs (started with --expose-gc): full GCs, as an idle server gets them:
  // from a timer, since this message came in a tick, and a tick object alive keeps its maps alive.
  if (msg?.type === 'gc')
    setTimeout(() => {
      for (let i = 0; i < 5; i++) globalThis.gc?.();
      process.send?.({ type: 'gc-done' });
    }, 0);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
