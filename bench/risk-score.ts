/**
 * tsx bench/risk-score.ts — latency of scoring one sign-in with global counts for 1,000,000 users.
 *
 * Global counts hold one sign-in for each of 1M users (1M distinct IPs, thousands of networks and
 * user agents); 10,000 of them get a real history of 20 sign-ins. Then each model scores 100,000
 * sign-ins of those users (60% their usual context, 40% something new), timing every call. The
 * freeman model is measured alongside as the reference. Prints one JSON object.
 */
import { loadavg } from 'node:os';
import { featureKeys, type LoginContext } from '../src/core/risk/context.js';
import { RiskEngine, type RiskModelName } from '../src/core/risk/engine.js';
import { Rng } from '../src/risk/world.js';

const USERS = Number(process.env.USERS ?? 1_000_000);
const WITH_HISTORY = 10_000;
const SCORES = 100_000;
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);

function contextFor(rng: Rng, user: number, at: number, usual: boolean): LoginContext {
  const asn = usual ? 1000 + (user % 5000) : 1000 + rng.int(5000);
  const browser = usual ? user % 40 : rng.int(40);
  const os = usual ? user % 12 : rng.int(12);
  return {
    at,
    userId: `u${user}`,
    ip: usual ? `10.${(user >> 16) & 255}.${(user >> 8) & 255}.${user & 255}` : `172.${rng.int(256)}.${rng.int(256)}.${rng.int(256)}`,
    asn: String(asn),
    country: `C${asn % 200}`,
    region: '-',
    city: '-',
    latitude: (asn % 180) - 90,
    longitude: (asn % 360) - 180,
    userAgent: `Mozilla/5.0 (OS ${os}) Browser/${browser}.${usual ? user % 7 : rng.int(7)}`,
    browser: `Browser${browser % 8} ${browser}`,
    os: `OS${os % 4} ${os}`,
    deviceType: os % 3 === 0 ? 'mobile' : 'desktop',
    deviceId: usual ? `d${user}` : `n${rng.int(1e9)}`,
  };
}

function measure(model: RiskModelName) {
  const rng = new Rng(7);
  const engine = new RiskEngine({ model, thresholds: { medium: 0, high: 2, veryHigh: 4 } });
  const global = engine.history.global;
  const built = performance.now();
  for (let u = WITH_HISTORY; u < USERS; u++) {
    global.add(featureKeys(contextFor(rng, u, START + rng.int(90) * DAY, true)));
    global.users++;
  }
  for (let u = 0; u < WITH_HISTORY; u++) {
    for (let i = 0; i < 20; i++) engine.recordSuccess(contextFor(rng, u, START + i * 4 * DAY + rng.int(DAY), rng.chance(0.85)));
  }
  const buildSeconds = (performance.now() - built) / 1000;
  const now = START + 100 * DAY;
  const contexts = Array.from({ length: SCORES }, () => contextFor(rng, rng.int(WITH_HISTORY), now + rng.int(DAY), rng.chance(0.6)));
  for (let i = 0; i < 5000; i++) engine.assess(contexts[i]!); // warm-up
  const times = new Float64Array(SCORES);
  let sink = 0;
  for (let i = 0; i < SCORES; i++) {
    const t = process.hrtime.bigint();
    sink += engine.assess(contexts[i]!).score;
    times[i] = Number(process.hrtime.bigint() - t) / 1e6;
  }
  times.sort();
  const at = (q: number) => Number(times[Math.floor(q * (SCORES - 1))]!.toFixed(4));
  return {
    model,
    users: global.users,
    globalLogins: global.logins,
    buildSeconds: Number(buildSeconds.toFixed(1)),
    scored: SCORES,
    medianMs: at(0.5),
    p99Ms: at(0.99),
    maxMs: at(1),
    checksum: Number(sink.toFixed(2)),
  };
}

const model = (process.argv[2] ?? 'both') as RiskModelName | 'both';
const results = model === 'both' ? [measure('freeman'), measure('twofold')] : [measure(model)];
process.stdout.write(
  `${JSON.stringify({ bench: 'risk-score', node: process.version, loadAverage: loadavg()[0], heapMB: Math.round(process.memoryUsage().heapUsed / 1e6), results })}\n`,
);
