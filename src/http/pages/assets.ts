import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';

/**
 * The only static files: a fixed allow-list, read once at start. The folder sits next to this
 * module in src/ and, copied by scripts/copy-assets.mjs, in dist/.
 */
const ASSETS = {
  'app.css': 'text/css; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'passkeys.js': 'text/javascript; charset=utf-8',
  'favicon.svg': 'image/svg+xml',
  'admin.css': 'text/css; charset=utf-8',
  'admin.js': 'text/javascript; charset=utf-8',
  'chart.umd.min.js': 'text/javascript; charset=utf-8',
} as const;
type AssetName = keyof typeof ASSETS;

const isAsset = (name: string): name is AssetName => Object.hasOwn(ASSETS, name);

/**
 * Browser libraries served from their installed npm package (a dependency, so present wherever
 * twofold runs), never from a CDN: the admin console's charts are Chart.js's own UMD build.
 */
const VENDORED: Partial<Record<AssetName, () => string>> = {
  'chart.umd.min.js': () => join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js'),
};

const assetPath = (name: AssetName, folder: URL): string | URL => VENDORED[name]?.() ?? new URL(name, folder);

export const assetRoutes = (): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    const folder = new URL('./assets/', import.meta.url);
    const files = new Map((Object.keys(ASSETS) as AssetName[]).map((name) => [name, readFileSync(assetPath(name, folder))]));

    app.get(
      '/assets/:file',
      {
        schema: { hide: true, params: Type.Object({ file: Type.String({ maxLength: 64 }) }) },
        // Runs after the global hook that marks every answer no-store: these files hold no secret.
        onSend: async (_request, reply, payload) => {
          if (reply.statusCode === 200) reply.header('Cache-Control', 'public, max-age=300');
          return payload;
        },
      },
      async (request, reply) => {
        const name = request.params.file;
        if (!isAsset(name)) {
          reply.callNotFound();
          return reply;
        }
        return reply.type(ASSETS[name]).send(files.get(name));
      },
    );
  };
