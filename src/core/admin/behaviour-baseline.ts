import type { LoginContext } from '../risk/context.js';
import { countBy } from './risk-summary.js';
import { countedSteps, signInOutcomeOf, type StepEvent } from './sign-in-outcomes.js';

/**
 * A user's usual behaviour: where they sign in from (countries, networks), with what (browser and
 * OS), and when (a day-of-week × hour heat map, UTC). Built from the risk engine's stored history
 * (login_history: geo-located, with ASNs) where it has any, otherwise derived from the audit trail
 * (risk off, or sign-ins from before it kept history).
 */

export interface BaselineEvent extends StepEvent {
  at: number;
  ip: string | null;
  userAgent: string | null;
}

/** What a baseline was built from: the risk engine's history, or the audit trail as a fallback. */
export type BaselineSource = 'risk_history' | 'audit_trail';

export interface BehaviourBaseline {
  source: BaselineSource;
  signIns: number;
  countries: Array<{ key: string; count: number }>;
  networks: Array<{ key: string; count: number }>;
  devices: Array<{ key: string; count: number }>;
  /** heatMap[day][hour]: successful sign-ins; day 0 = Monday, hours in UTC. */
  heatMap: number[][];
  firstSeen: number | null;
  lastSeen: number | null;
}

/** The network an address belongs to, coarsely: its /24 (IPv4) or /48 (IPv6). */
export function networkOf(ip: string): string {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  const octets = v4.split('.');
  if (octets.length === 4 && octets.every((o) => /^\d{1,3}$/.test(o))) return `${octets.slice(0, 3).join('.')}.0/24`;
  if (ip.includes(':')) {
    const [head = '', tail] = ip.split('::');
    const groups = head ? head.split(':') : [];
    if (tail !== undefined) while (groups.length < 3) groups.push('0');
    return `${groups.slice(0, 3).join(':')}::/48`;
  }
  return ip;
}

/** A country code or name an event's detail may carry (geo-IP is the risk engine's business). */
export function countryOf(detail: Record<string, unknown> | null): string | null {
  const candidates = [detail?.country, (detail?.geo as Record<string, unknown> | undefined)?.country];
  for (const c of candidates) if (typeof c === 'string' && c) return c;
  return null;
}

/** Sign-ins per weekday × hour, UTC; day 0 = Monday. */
function hourlyCounts(times: number[]): number[][] {
  const heatMap = Array.from({ length: 7 }, () => Array.from({ length: 24 }, () => 0));
  for (const at of times) {
    const d = new Date(at);
    heatMap[(d.getUTCDay() + 6) % 7]![d.getUTCHours()]! += 1;
  }
  return heatMap;
}

/**
 * The baseline from the risk engine's own record of successful sign-ins: its countries come from
 * geo-IP for every sign-in, and a network is the AS where known ("AS29695"), else the address's /24.
 */
export function baselineFromHistory(logins: LoginContext[], describeDevice: (userAgent: string) => string): BehaviourBaseline {
  const times = logins.map((l) => l.at);
  return {
    source: 'risk_history',
    signIns: logins.length,
    countries: countBy(logins, (l) => (l.country && l.country !== '-' ? l.country : null)),
    networks: countBy(logins, (l) => (l.asn ? `AS${l.asn}` : l.ip ? networkOf(l.ip) : null)),
    devices: countBy(logins, (l) => (l.userAgent ? describeDevice(l.userAgent) : null)),
    heatMap: hourlyCounts(times),
    firstSeen: times.length ? Math.min(...times) : null,
    lastSeen: times.length ? Math.max(...times) : null,
  };
}

export function behaviourBaseline(events: BaselineEvent[], describeDevice: (userAgent: string) => string): BehaviourBaseline {
  const signIns = countedSteps(events).filter((e) => signInOutcomeOf(e) === 'success');
  const times = signIns.map((e) => e.at);
  const heatMap = hourlyCounts(times);
  return {
    source: 'audit_trail',
    signIns: signIns.length,
    // Countries come from whichever events carry one (the risk engine's decisions do).
    countries: countBy(events, (e) => countryOf(e.detail)),
    networks: countBy(signIns, (e) => (e.ip ? networkOf(e.ip) : null)),
    devices: countBy(signIns, (e) => (e.userAgent ? describeDevice(e.userAgent) : null)),
    heatMap,
    firstSeen: times.length ? Math.min(...times) : null,
    lastSeen: times.length ? Math.max(...times) : null,
  };
}
