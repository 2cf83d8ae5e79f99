import type { LoginContext } from './context.js';
import { travelBetween, type Travel } from './geo.js';
import type { UserView } from './history.js';

/** Operator-supplied known-bad networks: Tor exit addresses, hosting or VPN ASNs. */
export interface BadNetworks {
  ips: ReadonlySet<string>;
  asns: ReadonlySet<string>;
}
export const NO_BAD_NETWORKS: BadNetworks = { ips: new Set(), asns: new Set() };

export interface SignalSettings {
  /** Two sign-ins further apart than this speed, and than impossibleMinKm, are impossible travel. */
  impossibleSpeedKmh: number;
  impossibleMinKm: number;
  failureWindowMs: number;
  /** Failures on the account within the window that count as a burst. */
  accountFailureBurst: number;
  /** Failures from the IP address (any account) within the window that count as a burst. */
  ipFailureBurst: number;
}

export const DEFAULT_SIGNAL_SETTINGS: SignalSettings = {
  impossibleSpeedKmh: 1000,
  impossibleMinKm: 500,
  failureWindowMs: 3_600_000,
  accountFailureBurst: 3,
  ipFailureBurst: 10,
};

/** What the one-sided signals observed for one sign-in (see signal-stats.ts for their weight). */
export interface SignalObservations {
  /** Undefined when the user has no history to compare with. */
  deviceKnown: boolean | undefined;
  travel: Travel | undefined;
  impossibleTravel: boolean;
  accountFailures: number;
  ipFailures: number;
  accountFailureBurst: boolean;
  ipFailureBurst: boolean;
  badNetwork: 'ip' | 'asn' | undefined;
}

export function observeSignals(
  ctx: LoginContext,
  deviceKey: string | undefined,
  user: UserView,
  failures: { account: number; ip: number },
  bad: BadNetworks,
  settings: SignalSettings,
): SignalObservations {
  // No cookie at all counts as a new device: deleting it must not hide the signal.
  const deviceKnown = user.logins > 0 ? deviceKey !== undefined && user.stat(deviceKey) !== undefined : undefined;
  const last = user.latest();
  let travel: Travel | undefined;
  if (last?.latitude !== undefined && last.longitude !== undefined && ctx.latitude !== undefined && ctx.longitude !== undefined) {
    travel = travelBetween(
      { at: last.at, latitude: last.latitude, longitude: last.longitude },
      { at: ctx.at, latitude: ctx.latitude, longitude: ctx.longitude },
    );
  }
  return {
    deviceKnown,
    travel,
    impossibleTravel:
      travel !== undefined && travel.distanceKm >= settings.impossibleMinKm && travel.speedKmh > settings.impossibleSpeedKmh,
    accountFailures: failures.account,
    ipFailures: failures.ip,
    accountFailureBurst: failures.account >= settings.accountFailureBurst,
    ipFailureBurst: failures.ip >= settings.ipFailureBurst,
    badNetwork: bad.ips.has(ctx.ip) ? 'ip' : bad.asns.has(ctx.asn) ? 'asn' : undefined,
  };
}
