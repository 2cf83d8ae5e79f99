// Copies the static page assets (CSS, browser scripts) next to the compiled pages.
import { cpSync, existsSync } from 'node:fs';

const from = 'src/http/pages/assets';
if (existsSync(from)) cpSync(from, 'dist/src/http/pages/assets', { recursive: true });

// The browser half of WebAuthn, @simplewebauthn/browser's ESM build (its .js files only), served by
// src/http/pages/passkey-assets.ts: pages load it from twofold itself, never from a CDN.
const simpleWebAuthn = 'node_modules/@simplewebauthn/browser/esm';
if (existsSync(simpleWebAuthn)) {
  cpSync(simpleWebAuthn, 'dist/src/http/pages/assets/vendor/simplewebauthn', {
    recursive: true,
    filter: (path) => !/\.(d\.ts|map)$/.test(path) && !path.endsWith('package.json'),
  });
}
