import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { holdTickObjectShape } from '../../src/http/tick-object-shape.js';

const TICK_OBJECT_SHAPE = join(resolve(import.meta.dirname, '../..'), 'dist/src/http/tick-object-shape.js');

/**
 * V8's own account, in a process of its own, of whether a full GC threw away `process.nextTick`'s
 * optimized code: a node:http server under load from 20 keep-alive clients until TurboFan has
 * optimized nextTick, then stopped, so that no tick object is alive, then five full GCs (V8 keeps
 * unused maps through two). Returns the `--trace-deopt` lines that name nextTick and "weak objects".
 */
function nextTickDroppedByGc(hold: boolean): string[] {
  const script = `
    import { writeSync } from 'node:fs';
    import http from 'node:http';
    const { holdTickObjectShape } = await import(${JSON.stringify(TICK_OBJECT_SHAPE)});
    if (${hold}) holdTickObjectShape();
    const server = http.createServer((request, response) => response.end('ok'));
    await new Promise((done) => server.listen(0, '127.0.0.1', done));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
    const get = () => new Promise((done, fail) => {
      http.get({ host: '127.0.0.1', port: server.address().port, agent }, (response) => {
        response.resume();
        response.on('end', done);
      }).on('error', fail);
    });
    // Load in rounds until TurboFan has optimized nextTick (status bit 6), 10 s at most.
    const turbofanned = () => (%GetOptimizationStatus(process.nextTick) & (1 << 6)) !== 0;
    for (let round = 0; round < 50 && !turbofanned(); round++) {
      const until = performance.now() + 200;
      await Promise.all(Array.from({ length: 20 }, async () => { while (performance.now() < until) await get(); }));
    }
    writeSync(1, turbofanned() ? 'OPTIMIZED\\n' : 'NOT OPTIMIZED\\n');
    agent.destroy();
    server.close();
    await new Promise((done) => setTimeout(done, 20));
    writeSync(1, 'IDLE\\n');
    for (let i = 0; i < 5; i++) globalThis.gc();
    writeSync(1, 'DONE\\n');
  `;
  const trace = execFileSync(
    process.execPath,
    ['--expose-gc', '--allow-natives-syntax', '--trace-deopt', '--input-type=module', '-e', script],
    {
      encoding: 'latin1',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  // Otherwise there would be no optimized code for the GCs to keep or throw away.
  expect(trace).toContain('OPTIMIZED\n');
  expect(trace).not.toContain('NOT OPTIMIZED');
  const gcs = trace.slice(trace.indexOf('IDLE\n'), trace.indexOf('DONE\n'));
  expect(gcs.length).toBeGreaterThan(0);
  return gcs.split('\n').filter((line) => /SharedFunctionInfo nextTick>.*reason: weak objects/.test(line));
}

describe("one of Node's tick objects held for the life of the process (src/http/tick-object-shape.ts)", () => {
  it('holds a tick object: the two async id symbols, callback and args; the same one on every call', () => {
    const tick = holdTickObjectShape() as Record<string | symbol, unknown>;
    expect(Object.keys(tick)).toEqual(['callback', 'args']);
    expect(Object.getOwnPropertySymbols(tick).map(String)).toEqual(['Symbol(async_id_symbol)', 'Symbol(trigger_async_id_symbol)']);
    expect(holdTickObjectShape()).toBe(tick);
  });

  it("held: a full GC with no tick alive keeps nextTick's optimized code", () => {
    expect(nextTickDroppedByGc(true)).toEqual([]);
  });

  it('not held (the control): the same GCs throw it away, because the maps it embedded died', () => {
    expect(nextTickDroppedByGc(false).length).toBeGreaterThan(0);
  });
});
