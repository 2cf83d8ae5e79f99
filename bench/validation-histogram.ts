// The cost of timing one validation (the hot path's only metrics work), against prom-client's own
// Histogram child as the reference, measured alongside in the same process. Prints JSON.
// Run: npx tsx bench/validation-histogram.ts
import { Histogram, Registry } from 'prom-client';
import { Metrics } from '../src/metrics/metrics.js';

const N = 1_000_000;
const BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

function nsPerCall(run: (i: number) => void): number {
  for (let i = 0; i < 100_000; i++) run(i);
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) run(i);
  return Number(process.hrtime.bigint() - start) / N;
}

const metrics = new Metrics();
const reference = new Histogram({
  name: 'reference',
  help: 'prom-client',
  labelNames: ['kind', 'result'],
  buckets: BUCKETS,
  registers: [new Registry()],
});
const child = reference.labels('forward_auth', 'allowed');
const ours = nsPerCall((i) => metrics.observeValidation('forward_auth', 200, 0.0003 + (i % 7) * 1e-5));
const theirs = nsPerCall((i) => child.observe(0.0003 + (i % 7) * 1e-5));
console.log(
  JSON.stringify({
    calls: N,
    twofold_observe_validation_ns: Number(ours.toFixed(1)),
    reference_prom_client_histogram_child_observe_ns: Number(theirs.toFixed(1)),
  }),
);
