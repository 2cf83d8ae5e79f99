import { setImmediate as nextTurn } from 'node:timers/promises';

/** Enough calls for V8 to optimize nextTick: with these, the profile showed the runtime call at 0.00%. */
const ROUNDS = 10_000;
/**
 * Ticks queued per event-loop turn: few, so they die young as a request's do. Tens of thousands
 * queued at once survive a scavenge together, and V8 then allocates every later tick in the old
 * generation (pretenuring): measured about 10 us more CPU per request, mostly scavenges.
 */
const ROUNDS_PER_TURN = 20;
const noop = (): void => {};

/**
 * Has V8 optimize `process.nextTick` before Fastify starts, while the calls it has seen are the
 * ordinary ones.
 *
 * node:http queues about nine ticks per request (stream ends, close events, write callbacks), and
 * each tick is an object literal with two computed symbol keys. In a process that ran Fastify's
 * start-up (`ready()`: route compilation, avvio) before nextTick was hot, V8 optimized nextTick with
 * that literal compiled as a generic runtime call (`Runtime_DefineKeyedOwnPropertyInLiteral`, map
 * migrations) on every tick: 14-16% of the CPU of a server answering a bare 200 after twofold's
 * `buildServer().ready()`, 0% without it, and 0% again when these calls came first
 * (bench/README.md, "nextTick"). Once optimized, the literal keeps its fast form.
 */
export function primeNextTick(): Promise<void> {
  // Once per process: V8 keeps the optimized code (tests build many servers in one process).
  return (primed ??= prime());
}

let primed: Promise<void> | undefined;

async function prime(): Promise<void> {
  for (let i = 0; i < ROUNDS; i++) {
    process.nextTick(noop);
    process.nextTick(noop, i);
    process.nextTick(noop, i, i);
    if (i % ROUNDS_PER_TURN === 0) await nextTurn();
  }
  // V8's background compile of nextTick lands before start-up goes on.
  await nextTurn();
}
