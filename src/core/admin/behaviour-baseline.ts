import { countBy } from './risk-summary.js';
import { countedSteps, signInOutcomeOf, type StepEvent } from './sign-in-outcomes.js';

/**
 * A user's usual behaviour, derived from their audit trail until the risk engine keeps its own
 * history: where they sign in from (countries when an event carries one, networks from the
 * address), with what (browser and OS), and when (a day-of-week × hour heat map, UTC).
 */

export interface BaselineEvent extends StepEvent {
  at: number;
  ip: string | null;
  userAgent: string | null;
}

export interface BehaviourBaseline {
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

export function behaviourBaseline(events: BaselineEvent[], describeDevice: (userAgent: string) => string): BehaviourBaseline {
  const signIns = countedSteps(events).filter((e) => signInOutcomeOf(e) === 'success');
  const heatMap = Array.from({ length: 7 }, () => Array.from({ length: 24 }, () => 0));
  for (const e of signIns) {
    const d = new Date(e.at);
    heatMap[(d.getUTCDay() + 6) % 7]![d.getUTCHours()]! += 1;
  }
  const times = signIns.map((e) => e.at);
  return {
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
