// The ceiling a Node check can reach: a bare node:http server answering 200 with no body, no
// parsing beyond what node:http does for every request. Run in its own process by verify.ts.
import { createServer } from 'node:http';

const server = createServer((_req, res) => {
  res.statusCode = 200;
  res.end();
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.BENCH_PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address();
  if (process.send) process.send({ type: 'ready', port });
  else process.stdout.write(`limit server on http://127.0.0.1:${port}\n`);
});
process.on('message', (msg) => {
  if (msg?.type === 'stats') process.send?.({ type: 'stats', memory: process.memoryUsage() });
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
