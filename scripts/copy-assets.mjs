// Copies the static page assets (CSS, browser scripts) next to the compiled pages.
import { cpSync, existsSync } from 'node:fs';

const from = 'src/http/pages/assets';
if (existsSync(from)) cpSync(from, 'dist/src/http/pages/assets', { recursive: true });
