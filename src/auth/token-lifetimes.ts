import type { Config } from '../config.js';
import type { SessionLifetimes } from '../core/session/session.js';
import type { SessionType } from '../store/store.js';
import { lifetimesOf } from './deps.js';

/**
 * A session handed out as tokens lives as long as its refresh family: the family's absolute and
 * idle lifetimes (config tokens.*) replace the cookie session's, so neither ends before the other.
 */
export const tokenSessionLifetimes = (config: Config): SessionLifetimes => ({
  ...config.session,
  idleTimeoutMs: config.tokens.refreshIdleTimeoutMs,
  absoluteLifetimeMs: config.tokens.refreshAbsoluteLifetimeMs,
});

export const sessionLifetimesFor = (config: Config, sessionType: SessionType): SessionLifetimes =>
  sessionType === 'tokens' ? tokenSessionLifetimes(config) : lifetimesOf(config);
