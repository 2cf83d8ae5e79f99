import type { RiskBand } from '../risk/policy.js';
import type { SessionLifetimes } from '../session/session.js';

/** How long a session may idle and live when its sign-in looked riskier than usual (config session_by_risk). */
export interface BandLifetime {
  idleTimeoutMs: number;
  absoluteLifetimeMs: number;
}
export interface RiskLifetimeTable {
  medium: BandLifetime;
  high: BandLifetime;
}

/**
 * The lifetimes of a session by the risk band of its sign-in: low risk gets the configured maximum,
 * medium and high their shorter values, and no band ever more than the configured caps (`base`).
 * A very-high sign-in is denied and gets no session; it is treated as high here all the same.
 */
export function lifetimesForRisk(base: SessionLifetimes, band: RiskBand | undefined, table: RiskLifetimeTable): SessionLifetimes {
  if (band === undefined || band === 'low') return base;
  const chosen = band === 'medium' ? table.medium : table.high;
  const absoluteLifetimeMs = Math.min(chosen.absoluteLifetimeMs, base.absoluteLifetimeMs);
  const idleTimeoutMs = Math.min(chosen.idleTimeoutMs, base.idleTimeoutMs, absoluteLifetimeMs);
  return { ...base, idleTimeoutMs, absoluteLifetimeMs };
}
