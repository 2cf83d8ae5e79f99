// What gate-cpu.mjs and gate-cpu-ab.mjs share: one build of twofold started on a data directory,
// and its gate's direct path (gate-fast-path.ts, the code that answers GET /auth/request under wrk)
// driven with plain request and response objects instead of sockets.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Starts the build in `dist` on `dataDir`; `check(token)` hands it one check, answered by the end of the next turn. */
export async function startGate(dist, dataDir) {
  const url = pathToFileURL(resolve(dist)).href;
  const { createDeps } = await import(`${url}/src/app.js`);
  const { loadConfig } = await import(`${url}/src/config.js`);
  const { buildServer } = await import(`${url}/src/http/server.js`);
  const config = loadConfig({
    env: {},
    // GATE_CONFIG_FILE: a twofold.yaml for both builds (e.g. session.touch_interval: 0s, a touch per check).
    file: process.env.GATE_CONFIG_FILE,
    overrides: { data_dir: dataDir, host: '127.0.0.1', port: 0, public_url: 'http://127.0.0.1', log_level: 'warn' },
  });
  const deps = await createDeps(config);
  const app = await buildServer(deps);
  await app.ready();
  const fastPath = app.gateFastPath;
  let answered = 0;
  let refused = 0;
  const response = {
    headersSent: false,
    writeHead(status) {
      if (status !== 200) refused++;
      return this;
    },
    end() {
      answered++;
    },
    destroy() {},
  };
  const socket = { remoteAddress: '127.0.0.1' };
  const fallback = () => {
    throw new Error(`${dist}: the direct path handed a check to Fastify`);
  };
  return {
    check(token) {
      const request = {
        url: '/auth/request',
        method: 'GET',
        socket,
        headers: {
          host: '127.0.0.1',
          'x-original-url': 'https://app.example.com/x',
          'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
          // As bench/rotate.lua sends it (http public URL: no cookie prefix).
          cookie: `twofold_session=${token}`,
        },
      };
      fastPath.handle(request, response, fallback);
    },
    /** Checks answered so far. */
    get answered() {
      return answered;
    },
    /** Answers other than 200 so far (the bench's tokens are all valid: should stay 0). */
    get refused() {
      return refused;
    },
    async close() {
      await app.close();
      await deps.store.close?.();
    },
  };
}
