// Experiment, not twofold: the same gate work as GET /auth/request (forwardedRequest, gate.check
// with the session cache, identity headers, the six security headers), answered by a bare
// node:http handler instead of Fastify. It shows how much of a check's cost is the framework.
// Run it in place of server.mjs: BENCH_DATA_DIR=... BENCH_PORT=... node bench/experiments/raw-gate.mjs
import { hash } from 'node:crypto';
import { createServer } from 'node:http';
import { createDeps } from '../../dist/src/app.js';
import { createGate } from '../../dist/src/auth/gate.js';
import { authenticate } from '../../dist/src/auth/sessions.js';
import { loadConfig } from '../../dist/src/config.js';
import { hashToken } from '../../dist/src/core/ids.js';
import { forwardedRequest } from '../../dist/src/http/forwarded-request.js';
import { identityHeaders } from '../../dist/src/http/gate-answer.js';

const config = loadConfig({
  env: {},
  overrides: { data_dir: process.env.BENCH_DATA_DIR, public_url: 'http://127.0.0.1', log_level: 'warn' },
});
const deps = await createDeps(config);
const gate = createGate(deps);
// RAW_GATE_NO_PROBE=1: skip the check for other connections' changes on each cache lookup
// (SQLite's data_version, read once per turn; unsafe: another process's revocation would go
// unseen), to measure what it costs under load.
if (process.env.RAW_GATE_NO_PROBE === '1') deps.sessionCache.externalChanges = () => null;
const security = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'cross-origin-opener-policy': 'same-origin',
};
/** Enough for the bench's one cookie; @fastify/cookie does the full RFC 6265 parse. */
const sessionCookie = (header) => {
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (pair.slice(0, eq).trim() === 'twofold_session') return decodeURIComponent(pair.slice(eq + 1).trim());
  }
  return undefined;
};

// RAW_GATE_STEPS (default all): how much of the work to do, to see what each step costs.
//   headers: answer 200 with the 13 headers only; url: + forwardedRequest; all: + gate.check;
//   no-security: all, but the 200 carries the identity headers only.
const steps = process.env.RAW_GATE_STEPS ?? 'all';
let fixed;
const server = createServer(async (req, res) => {
  if (steps === 'headers' && fixed) {
    res.writeHead(200, { ...fixed, ...security, 'content-length': '0' }).end();
    return;
  }
  const original = forwardedRequest(req, 'original');
  if (!original) {
    res.writeHead(400, security).end();
    return;
  }
  if (steps === 'url-await' && fixed) await Promise.resolve();
  if (steps === 'hash' && fixed) hashToken(sessionCookie(req.headers.cookie));
  if (steps === 'hash-oneshot' && fixed) hash('sha256', sessionCookie(req.headers.cookie), 'hex');
  if (steps.startsWith('spin') && fixed) {
    const end = performance.now() + Number(steps.slice(4)) / 1000;
    while (performance.now() < end);
  }
  if (steps === 'get' && fixed) deps.sessionCache.get(hashToken(sessionCookie(req.headers.cookie)));
  if (steps === 'auth' && fixed) await authenticate(deps, sessionCookie(req.headers.cookie));
  if ((['url', 'url-await', 'hash', 'hash-oneshot', 'get', 'auth'].includes(steps) || steps.startsWith('spin')) && fixed) {
    res.writeHead(200, { ...fixed, ...security, 'content-length': '0' }).end();
    return;
  }
  const token = req.headers.authorization?.startsWith('Bearer ')
    ? req.headers.authorization.slice(7).trim()
    : req.headers.cookie
      ? sessionCookie(req.headers.cookie)
      : undefined;
  const result = await gate.check(token, {
    host: original.url.hostname,
    path: original.url.pathname,
    method: original.method,
    ip: req.socket.remoteAddress,
  });
  if (result.outcome.kind !== 'allow') {
    res.writeHead(401, security).end();
    return;
  }
  fixed ??= identityHeaders(result.identity.user, result.identity.session);
  if (steps === 'no-security') {
    res.writeHead(200, { ...identityHeaders(result.identity.user, result.identity.session), 'content-length': '0' }).end();
    return;
  }
  res.writeHead(200, { ...identityHeaders(result.identity.user, result.identity.session), ...security, 'content-length': '0' }).end();
});
server.listen(Number(process.env.BENCH_PORT ?? 0), '127.0.0.1', () => {
  if (process.send) process.send({ type: 'ready', port: server.address().port });
  else process.stdout.write(`raw gate on http://127.0.0.1:${server.address().port}\n`);
});
process.on('message', (msg) => {
  if (msg?.type === 'stats') process.send?.({ type: 'stats', memory: process.memoryUsage(), cacheSize: deps.sessionCache.size });
});
process.on('SIGTERM', () => process.exit(0));
