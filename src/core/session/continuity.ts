import { travelBetween } from '../risk/geo.js';

/**
 * Continuous evaluation: does the request still come from where the session began? Pure: the place
 * of an address and the parts of a user agent are looked up by functions the caller passes, and are
 * asked for only when the address or the user agent differ, so the common case is two string
 * comparisons of values already in memory.
 */

/** What a session remembers of the context it was created in. */
export interface SessionSide {
  ip: string;
  userAgent: string;
  /** SHA-256 of the device cookie id the session was created with (cookie sign-ins from a browser). */
  deviceHash?: string;
  /**
   * When the session is known to have been at its address: its creation (sign-in or step-up).
   * Impossible travel is judged from here, which can only underestimate the speed (a later visit
   * from the same address is not remembered, by design: the common case writes nothing), so it never
   * flags a journey that was possible.
   */
  createdAt: number;
}

/** What the request brings. */
export interface RequestSide {
  ip: string;
  userAgent: string;
  /**
   * The request's device cookie hash, asked only when needed: null when the request carries none,
   * undefined (no function) when the device cookie cannot be seen on this request (e.g. the gate,
   * which answers for other hosts than the portal's), so it is not compared.
   */
  deviceHash?: () => string | null;
}

export interface Place {
  asn: string;
  country: string;
  latitude?: number;
  longitude?: number;
}

export interface BrowserParts {
  browserFamily: string;
  /** Dotted numbers, e.g. "126.0.6478.126"; '' when unknown. */
  browserVersion: string;
  osFamily: string;
}

export interface ContinuityLookups {
  place(ip: string): Place;
  browser(userAgent: string): BrowserParts;
}

export type DriftReason =
  | 'ip_changed'
  | 'asn_changed'
  | 'country_changed'
  | 'browser_updated'
  | 'browser_downgraded'
  | 'user_agent_changed'
  | 'browser_family_changed'
  | 'os_family_changed'
  | 'impossible_travel'
  | 'device_missing'
  | 'device_changed';

export type DriftBand = 'same' | 'low' | 'medium' | 'high';

export interface ContinuityVerdict {
  band: DriftBand;
  /** Every change seen, for the event; empty when 'same'. */
  reasons: DriftReason[];
}

export const SAME_CONTEXT: ContinuityVerdict = Object.freeze({ band: 'same', reasons: Object.freeze([]) as unknown as DriftReason[] });

/** Faster than any airliner: two places further apart than this in the time between are not one traveller. */
export const IMPOSSIBLE_SPEED_KMH = 1000;

const BAND_OF: Record<DriftReason, Exclude<DriftBand, 'same'>> = {
  ip_changed: 'low',
  browser_updated: 'low',
  user_agent_changed: 'low',
  asn_changed: 'medium',
  country_changed: 'medium',
  browser_downgraded: 'medium',
  browser_family_changed: 'high',
  os_family_changed: 'high',
  impossible_travel: 'high',
  device_missing: 'high',
  device_changed: 'high',
};
const RANK: Record<DriftBand, number> = { same: 0, low: 1, medium: 2, high: 3 };

/** Negative when a < b, by dotted numeric parts ("126.0.1" < "127"); 0 when either is unknown. */
export function compareVersions(a: string, b: string): number {
  if (!a || !b) return 0;
  const pa = a.split('.').map((p) => parseInt(p, 10) || 0);
  const pb = b.split('.').map((p) => parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function evaluateContinuity(session: SessionSide, request: RequestSide, lookups: ContinuityLookups, now: number): ContinuityVerdict {
  // The hot path: the same address and the same browser string, nothing parsed or looked up.
  const sameIp = request.ip === session.ip;
  const sameAgent = request.userAgent === session.userAgent;
  if (sameIp && sameAgent) return SAME_CONTEXT;

  const reasons: DriftReason[] = [];
  if (!sameIp) {
    reasons.push('ip_changed');
    const was = lookups.place(session.ip);
    const is = lookups.place(request.ip);
    // Unknown on either side ('' from a missing database or a private address) is no evidence of change.
    if (was.asn && is.asn && was.asn !== is.asn) reasons.push('asn_changed');
    if (was.country && is.country && was.country !== is.country) reasons.push('country_changed');
    if (was.latitude !== undefined && was.longitude !== undefined && is.latitude !== undefined && is.longitude !== undefined) {
      const travel = travelBetween(
        { at: session.createdAt, latitude: was.latitude, longitude: was.longitude },
        { at: now, latitude: is.latitude, longitude: is.longitude },
      );
      if (travel.distanceKm > 100 && travel.speedKmh > IMPOSSIBLE_SPEED_KMH) reasons.push('impossible_travel');
    }
  }
  if (!sameAgent) {
    const was = lookups.browser(session.userAgent);
    const is = lookups.browser(request.userAgent);
    if (was.osFamily !== is.osFamily) reasons.push('os_family_changed');
    if (was.browserFamily !== is.browserFamily) reasons.push('browser_family_changed');
    else {
      const order = compareVersions(is.browserVersion, was.browserVersion);
      reasons.push(order > 0 ? 'browser_updated' : order < 0 ? 'browser_downgraded' : 'user_agent_changed');
    }
  }
  if (session.deviceHash !== undefined && request.deviceHash !== undefined) {
    const device = request.deviceHash();
    if (device === null) reasons.push('device_missing');
    else if (device !== session.deviceHash) reasons.push('device_changed');
  }
  let band: DriftBand = 'same';
  for (const reason of reasons) if (RANK[BAND_OF[reason]] > RANK[band]) band = BAND_OF[reason];
  return { band, reasons };
}
