import type { Command } from 'commander';
import { createDeps } from '../app.js';
import { issueSetupLinkIfNeeded } from '../auth/setup.js';
import { buildServer } from '../http/server.js';
import { loadCliConfig } from './cli-config.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Start the twofold server (default http://127.0.0.1:8080, data in ./data)')
    .option('--port <port>', 'port to listen on (overrides PORT and config)')
    .option('--host <host>', 'address to listen on')
    .action(async (options: { port?: string; host?: string }) => {
      const overrides: Record<string, unknown> = {};
      if (options.port !== undefined) overrides.port = Number(options.port);
      if (options.host !== undefined) overrides.host = options.host;
      const config = loadCliConfig(program, overrides);
      const deps = await createDeps(config);
      const app = await buildServer(deps);
      const shutdown = async (signal: string) => {
        app.log.info({ signal }, 'shutting down');
        await app.close();
        await deps.store.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void shutdown('SIGINT'));
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
      await app.listen({ host: config.host, port: config.port });
      if (config.insecureCookies) {
        app.log.warn('development mode: plain http on loopback, cookies without __Host- prefix and Secure flag');
      }
      const setupLink = await issueSetupLinkIfNeeded(deps);
      if (setupLink) {
        const minutes = Math.round(config.setup.linkLifetimeMs / 60_000);
        process.stdout.write(
          `\n  No users yet. Create the first administrator here (one use, expires in ${minutes} min):\n\n    ${setupLink}\n\n`,
        );
      }
    });
}
