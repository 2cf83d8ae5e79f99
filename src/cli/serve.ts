import type { Command } from 'commander';
import { createDeps } from '../app.js';
import { issueSetupLinkIfNeeded } from '../auth/setup.js';
import { loadCliConfig } from './cli-config.js';
import { applyHeapGrowth } from './heap-growth.js';
import { applyParallelScavenge } from './parallel-scavenge.js';

interface ServeOptions {
  port?: string;
  host?: string;
  upstream?: string;
  proxyPort?: string;
  demo?: boolean;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Start the twofold server (default http://127.0.0.1:8080, data in ./data)')
    .option('--port <port>', 'port to listen on (overrides PORT and config)')
    .option('--host <host>', 'address to listen on')
    .option('--upstream <url>', 'protect this app with the built-in reverse proxy (proxy.upstream)')
    .option('--proxy-port <port>', 'port of the built-in reverse proxy (proxy.port, default 8081)')
    .option('--demo', 'also start a tiny demo app behind the built-in proxy')
    .action(async (options: ServeOptions) => {
      // Loaded here rather than at the top: the other commands do not pay for Fastify at start-up.
      const [{ startDemoApp }, { buildReverseProxy }, { buildServer }] = await Promise.all([
        import('../demo/demo-app.js'),
        import('../http/proxy/reverse-proxy.js'),
        import('../http/server.js'),
      ]);
      const overrides: Record<string, unknown> = {};
      if (options.port !== undefined) overrides.port = Number(options.port);
      if (options.host !== undefined) overrides.host = options.host;
      if (options.proxyPort !== undefined) overrides['proxy.port'] = Number(options.proxyPort);
      const demo = options.demo ? await startDemoApp() : null;
      const upstream = options.upstream ?? demo?.url;
      if (upstream !== undefined) overrides['proxy.upstream'] = upstream;

      const config = loadCliConfig(program, overrides);
      applyHeapGrowth(config.heapGrowthPercent);
      applyParallelScavenge(config.parallelScavenge);
      const deps = await createDeps(config);
      const app = await buildServer(deps);
      const proxy = config.proxy ? await buildReverseProxy(deps) : null;
      const shutdown = async (signal: string) => {
        app.log.info({ signal }, 'shutting down');
        await proxy?.close();
        await app.close();
        demo?.server.close();
        await deps.store.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void shutdown('SIGINT'));
      process.once('SIGTERM', () => void shutdown('SIGTERM'));

      await app.listen({ host: config.host, port: config.port });
      if (config.proxy && proxy) {
        await proxy.listen({ host: config.proxy.host, port: config.proxy.port });
        app.log.info(
          { upstream: config.proxy.upstream.origin, at: config.proxy.publicUrl.origin },
          'built-in proxy protecting the upstream',
        );
      }
      if (config.insecureCookies) {
        app.log.warn('development mode: plain http on loopback, cookies without __Host- prefix and Secure flag');
      }
      const lines: string[] = [];
      const setupLink = await issueSetupLinkIfNeeded(deps);
      if (setupLink) {
        const minutes = Math.round(config.setup.linkLifetimeMs / 60_000);
        lines.push(`No users yet. Create the first administrator here (one use, expires in ${minutes} min):`, '', `  ${setupLink}`, '');
      }
      if (demo && config.proxy) {
        lines.push(
          `Demo app, protected by twofold (sign in with password + second factor):`,
          '',
          `  ${config.proxy.publicUrl.toString()}`,
          '',
        );
      }
      if (lines.length) process.stdout.write(`\n${lines.map((l) => (l ? `  ${l}` : '')).join('\n')}\n`);
    });
}
