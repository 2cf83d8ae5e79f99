import { createHook } from 'node:async_hooks';

/**
 * One of Node's own tick objects (what `process.nextTick` queues), held for the life of the process.
 *
 * node:http queues about nine ticks per request, each an object literal with two computed symbol
 * keys (`{ [async_id_symbol]: …, [trigger_async_id_symbol]: …, callback, args }`). V8 gives the
 * literal a chain of hidden classes (maps) as the keys are added, and it holds them weakly: when a
 * full GC finds no tick object alive — a server that idled for a moment — the chain dies, and with
 * it every piece of optimized code that embedded one of its maps ("weak objects" in
 * `--trace-deopt`). The literal's inline cache then meets a new chain of maps, and `nextTick`,
 * optimized again, adds each key through a generic runtime call. A bare `node:http` server
 * answered about a quarter fewer requests from then on, for good (110–115k → 76–88k a second under
 * wrk at 50 connections, after an idle second and five full GCs); twofold's gate spent 30% of its
 * busy time in `nextTick`, where it spends under 8% otherwise (bench/README.md, 2026-12-08 morning).
 *
 * A tick object held here keeps its map, and through each map's back pointer the whole chain,
 * alive, so the cache never sees a second one. It must be taken before the first full GC that could
 * find no tick alive: once the cache has met a second chain, holding the new one does not bring the
 * speed back. So `twofold serve` takes it before anything else loads (cli/main.ts imports
 * cli/hold-tick-shape.ts first), and `buildServer` takes it too, for processes that build a server
 * otherwise (tests, the bench).
 *
 * How: an async hook's `init` is handed every new resource, a tick object included; the hook is
 * enabled for one `nextTick` and disabled at once, so no hook is left to slow later ticks.
 */
let held: object | undefined;

/**
 * Takes and holds one tick object (once per process). Returns it, for tests; undefined on a Node.js
 * whose `nextTick` queues no such object (then there is nothing to hold, and nothing else changes).
 */
export function holdTickObjectShape(): object | undefined {
  if (held !== undefined) return held;
  const hook = createHook({
    init(_asyncId, type, _triggerAsyncId, resource) {
      if (type === 'TickObject' && held === undefined) held = resource;
    },
  });
  hook.enable();
  try {
    process.nextTick(noop);
  } finally {
    hook.disable();
  }
  return held;
}

const noop = (): void => {};
