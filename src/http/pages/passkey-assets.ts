import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';

/**
 * @simplewebauthn/browser's ESM build, served from twofold itself (the CSP allows scripts from 'self'
 * only, and no CDN is ever asked). The build copies it next to the compiled pages
 * (scripts/copy-assets.mjs); running from source it is read from the installed package. Every file
 * is read once at start into an allow-list: a request names one of them or gets a 404.
 */
export const PASSKEY_LIBRARY_PATH = '/assets/vendor/simplewebauthn/';

function libraryFolder(): string {
  const copied = fileURLToPath(new URL('./assets/vendor/simplewebauthn/', import.meta.url));
  if (existsSync(copied)) return copied;
  // The package's "import" entry is esm/index.js.
  const cjsEntry = createRequire(import.meta.url).resolve('@simplewebauthn/browser');
  return join(dirname(cjsEntry), '..', 'esm');
}

function readScripts(folder: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.js')) files.set(relative(folder, path).split(sep).join('/'), readFileSync(path));
    }
  };
  walk(folder);
  return files;
}

export const passkeyAssetRoutes = (): FastifyPluginAsyncTypebox =>
  async function routes(app) {
    const files = readScripts(libraryFolder());
    app.get(
      `${PASSKEY_LIBRARY_PATH}*`,
      {
        schema: { hide: true, params: Type.Object({ '*': Type.String({ maxLength: 128 }) }) },
        onSend: async (_request, reply, payload) => {
          if (reply.statusCode === 200) reply.header('Cache-Control', 'public, max-age=300');
          return payload;
        },
      },
      async (request, reply) => {
        const file = files.get(request.params['*']);
        if (!file) {
          reply.callNotFound();
          return reply;
        }
        return reply.type('text/javascript; charset=utf-8').send(file);
      },
    );
  };
