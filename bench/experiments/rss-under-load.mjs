// Resident memory of twofold (bench/server.mjs) under wrk, second by second: where the bench
// reports one peak per case, this shows when it is reached. Run after a bench has seeded a data dir:
// node bench/experiments/rss-under-load.mjs <data dir> <token file> <seconds> [node flags for the server...]
// e.g. node bench/experiments/rss-under-load.mjs /tmp/twofold-bench/sessions-1000000 \
//        /tmp/twofold-bench/sessions-1000000/tokens-all.txt 20 --trace-gc
// Prints VmRSS/VmHWM each second, wrk's summary, process.memoryUsage() in MB and the largest
// mappings of /proc/PID/smaps at the end.
import { fork, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const here = new URL('..', import.meta.url).pathname;
const [dataDir, tokens, seconds, ...flags] = process.argv.slice(2);
if (!dataDir || !tokens || !seconds) throw new Error('usage: rss-under-load.mjs <data dir> <token file> <seconds> [node flags...]');
const server = fork(`${here}server.mjs`, [], {
  env: { ...process.env, BENCH_DATA_DIR: dataDir },
  execArgv: flags,
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const port = await new Promise((resolve) => server.once('message', (m) => resolve(m.port)));
const mb = (kb) => Math.round(kb / 1024);
const memory = () => {
  const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
  const kb = (key) => Number(status.match(new RegExp(`${key}:\\s+(\\d+)`))[1]);
  return `rss ${mb(kb('VmRSS'))} MB, peak ${mb(kb('VmHWM'))} MB`;
};
console.log(`start: ${memory()}`);
const wrk = spawn(
  'wrk',
  [
    '-t1',
    '-c50',
    `-d${seconds}s`,
    '--latency',
    '-s',
    `${here}rotate.lua`,
    `http://127.0.0.1:${port}/auth/request`,
    '--',
    tokens,
    'cookie',
    'https://app.example.com/x',
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
let out = '';
wrk.stdout.on('data', (d) => (out += d));
let second = 0;
const timer = setInterval(() => console.log(`${++second} s: ${memory()}`), 1000);
await new Promise((resolve) => wrk.once('exit', resolve));
clearInterval(timer);
console.log(
  out
    .split('\n')
    .filter((l) => /Requests\/sec|99%|50%/.test(l))
    .join('\n'),
);
console.log(`end: ${memory()}`);
server.send({ type: 'stats' });
const stats = await new Promise((resolve) => server.on('message', (m) => m.type === 'stats' && resolve(m)));
console.log(JSON.stringify(Object.fromEntries(Object.entries(stats.memory).map(([k, v]) => [k, Math.round(v / 2 ** 20)]))));
const byMapping = new Map();
let mapping = '';
for (const line of readFileSync(`/proc/${server.pid}/smaps`, 'utf8').split('\n')) {
  if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) mapping = line.split(/\s+/)[5] || '[anon]';
  else if (line.startsWith('Rss:')) byMapping.set(mapping, (byMapping.get(mapping) ?? 0) + Number(line.split(/\s+/)[1]));
}
for (const [name, kb] of [...byMapping].sort((a, b) => b[1] - a[1]).slice(0, 5)) console.log(`${mb(kb)} MB ${name}`);
server.kill();
