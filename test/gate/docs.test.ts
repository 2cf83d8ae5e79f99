import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLES, fillTemplate, REPO } from './support.js';

/**
 * docs/forward-auth.md shows the nginx and Caddy configurations as snippets with example addresses;
 * the tests run docs/examples/*. Every directive a snippet shows must be in the tested file, so the
 * documentation cannot drift from what was proven.
 */

const doc = readFileSync(join(REPO, 'docs/forward-auth.md'), 'utf8');

const blocks = (lang: string): string[] => [...doc.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);

/** Directive lines without comments and indentation. */
const directives = (text: string): string[] =>
  text
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter((line) => line.length > 0 && line !== '{' && line !== '}');

const EXAMPLE_VALUES = {
  TWOFOLD: '127.0.0.1:8080',
  UPSTREAM: '127.0.0.1:3000',
  TEMP: '/tmp',
  STORAGE: '/tmp',
  LISTEN: '443 ssl',
  SITE: 'app.example.com',
};

describe('docs/forward-auth.md shows the tested configurations', () => {
  it('every line of the nginx snippet is in docs/examples/nginx.conf', () => {
    const tested = new Set(directives(fillTemplate('nginx.conf', EXAMPLE_VALUES)));
    const [main] = blocks('nginx');
    expect(main).toBeDefined();
    const missing = directives(main!).filter((line) => !tested.has(line) && !/^(server_name|ssl_)/.test(line));
    expect(missing).toEqual([]);
  });

  it('every line of the Caddyfile snippet is in docs/examples/Caddyfile', () => {
    const tested = new Set(directives(fillTemplate('Caddyfile', EXAMPLE_VALUES)));
    const [main] = blocks('caddyfile');
    expect(main).toBeDefined();
    expect(directives(main!).filter((line) => !tested.has(line))).toEqual([]);
  });

  it('the templates have placeholders only for addresses and paths', () => {
    for (const file of ['nginx.conf', 'Caddyfile']) {
      const names = new Set([...readFileSync(join(EXAMPLES, file), 'utf8').matchAll(/\{\{([A-Z_]+)\}\}/g)].map((m) => m[1]));
      for (const name of names) expect(Object.keys(EXAMPLE_VALUES), `${file}: {{${name}}}`).toContain(name);
    }
  });
});
