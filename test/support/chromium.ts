import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium, driven by playwright-core: nothing is downloaded. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless, and quiet on this machine's closed network: without the background-networking flags
 * Chromium keeps trying Google's hosts and gets refused, many connections at a time.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const launchChromium = (...extraArgs: string[]): Promise<Browser> =>
  chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs] });

/**
 * True when Chromium is not installed: the browser tests then skip with a hint on a laptop, and fail
 * in CI (CI set), where a skipped test must not pass for a run one.
 */
export function chromiumMissing(what: string): boolean {
  if (existsSync(CHROMIUM)) return false;
  const hint = `${what} need ${CHROMIUM}: apt-get install chromium enables them`;
  if (process.env.CI) throw new Error(`${hint} (CI is set, so this fails instead of skipping)`);
  console.warn(`Skipping: ${hint}.`);
  return true;
}
