import { Level, featureKeys, hourOf, type FeatureKeys, type LoginContext } from './context.js';
import { FREEMAN_HIERARCHIES, hierarchyTerm, userPriorTerm, type Hierarchy, type HierarchyTerm } from './hierarchy.js';
import type { GlobalView, UserView } from './history.js';
import type { SignalStats } from './signal-stats.js';
import type { SignalObservations } from './signals.js';

/**
 * twofold's hierarchies: Freeman's, with the browser and OS families (so an automatic browser
 * upgrade still matches "Chrome on Windows") and the hour of day as a third feature.
 */
export const TWOFOLD_HIERARCHIES: readonly Hierarchy[] = [
  FREEMAN_HIERARCHIES[0]!,
  {
    feature: 'ua',
    levels: [
      { level: Level.ua, weight: 0.4 },
      { level: Level.browser, weight: 0.2 },
      { level: Level.browserFamily, weight: 0.15 },
      { level: Level.os, weight: 0.1 },
      { level: Level.osFamily, weight: 0.1 },
      { level: Level.deviceType, weight: 0.05 },
    ],
  },
  {
    feature: 'time',
    levels: [
      { level: Level.hour, weight: 0.5 },
      { level: Level.hourBlock, weight: 0.5 },
    ],
  },
];

export interface TwofoldModelSettings {
  /** A value last seen longer ago than this counts half. */
  staleAfterMs: number;
  /**
   * p(known device cookie | attacker): how often an attacker is assumed to present the victim's
   * own cookie (stolen from the browser). Not measurable from sign-ins; stated, not hidden.
   */
  cookieTheftRate: number;
  /** Use the device cookie signal (turned off to measure what the rest is worth). */
  useDeviceCookie: boolean;
}

export const DEFAULT_TWOFOLD_SETTINGS: TwofoldModelSettings = {
  staleAfterMs: 90 * 86_400_000,
  cookieTheftRate: 0.01,
  useDeviceCookie: true,
};

/** One reason behind a score, with its weight (log10 of the factor it multiplies the risk by). */
export interface RiskReason {
  code: string;
  text: string;
  weight: number;
}

export interface TwofoldScore {
  score: number;
  reasons: RiskReason[];
}

/**
 * twofold's model: Freeman's likelihood ratio with Witten-Bell smoothing and recency, times one
 * factor per signal. Each signal is weighed by evidence: p(signal | legitimate) is counted from
 * the legitimate sign-ins learnt so far (SignalStats); the attacker side is taken as 1 for
 * one-sided warning signals (the strongest the evidence allows, and nothing when they are quiet)
 * and as the stated cookie theft rate for the device cookie.
 */
export function twofoldScore(
  ctx: LoginContext,
  user: UserView,
  global: GlobalView,
  observed: SignalObservations,
  stats: SignalStats,
  settings: TwofoldModelSettings = DEFAULT_TWOFOLD_SETTINGS,
  keys: FeatureKeys = featureKeys(ctx),
  /** False on hot paths that need the score only: reason texts are then left empty. */
  explain = true,
): TwofoldScore {
  const smoothing = { kind: 'witten-bell', staleAfterMs: settings.staleAfterMs } as const;
  const reasons: RiskReason[] = [];
  for (const hierarchy of TWOFOLD_HIERARCHIES) {
    const term = hierarchyTerm(hierarchy, keys, user, global, smoothing, ctx.at);
    // A value this user has shown before is never evidence against them: where everyone shares it
    // (one office NAT, one browser build) smoothing alone could make it read as slightly risky.
    // (A value not seen for a long time keeps its weight: recency is evidence.)
    if (term.logRatio > 0 && term.unseenLevels.length === 0 && recentlySeen(hierarchy, keys, user, ctx.at, settings.staleAfterMs)) {
      term.logRatio = 0;
    }
    reasons.push(explain ? explainTerm(term, ctx) : { code: term.feature, text: '', weight: term.logRatio });
  }
  const prior = userPriorTerm(user, global);
  reasons.push({ code: 'account_history', text: 'few sign-ins on record for this account', weight: prior });

  if (settings.useDeviceCookie && observed.deviceKnown !== undefined) {
    const legitKnown = stats.legitRate('deviceKnown');
    reasons.push(
      observed.deviceKnown
        ? { code: 'known_device', text: 'known device', weight: Math.log10(settings.cookieTheftRate / legitKnown) }
        : { code: 'new_device', text: 'new device', weight: Math.log10((1 - settings.cookieTheftRate) / (1 - legitKnown)) },
    );
  }
  if (observed.impossibleTravel && observed.travel) {
    reasons.push({
      code: 'impossible_travel',
      text: explain
        ? `${Math.round(observed.travel.distanceKm).toLocaleString('en-US')} km from last sign-in ${formatElapsed(observed.travel.elapsedMs)} ago`
        : '',
      weight: -Math.log10(stats.legitRate('impossibleTravel')),
    });
  }
  if (observed.accountFailureBurst) {
    reasons.push({
      code: 'account_failures',
      text: `${observed.accountFailures} failed sign-ins on this account in the last hour`,
      weight: -Math.log10(stats.legitRate('accountFailureBurst')),
    });
  }
  if (observed.ipFailureBurst) {
    reasons.push({
      code: 'ip_failures',
      text: `${observed.ipFailures} failed sign-ins from this IP address in the last hour`,
      weight: -Math.log10(stats.legitRate('ipFailureBurst')),
    });
  }
  if (observed.badNetwork) {
    reasons.push({
      code: 'bad_network',
      text: observed.badNetwork === 'ip' ? "IP address on the operator's block list" : `network AS${ctx.asn} on the operator's block list`,
      weight: -Math.log10(stats.legitRate('badNetwork')),
    });
  }
  const score = reasons.reduce((sum, r) => sum + r.weight, 0);
  reasons.sort((a, b) => b.weight - a.weight);
  return { score, reasons };
}

function recentlySeen(hierarchy: Hierarchy, keys: FeatureKeys, user: UserView, now: number, staleAfterMs: number): boolean {
  const finest = keys[hierarchy.levels[0]!.level];
  const stat = finest === undefined ? undefined : user.stat(finest);
  return stat !== undefined && now - stat.lastSeen <= staleAfterMs;
}

/** The reasons worth showing: the ones that raised the risk noticeably (×2 or more), biggest first. */
export function topReasons(reasons: readonly RiskReason[], limit = 3): string[] {
  return reasons
    .filter((r) => r.weight >= Math.log10(2))
    .slice(0, limit)
    .map((r) => r.text);
}

function explainTerm(term: HierarchyTerm, ctx: LoginContext): RiskReason {
  const unseen = new Set(term.unseenLevels);
  const weight = term.logRatio;
  if (term.feature === 'ip') {
    if (unseen.has(Level.country)) return { code: 'new_country', text: `country never seen for this user (${ctx.country})`, weight };
    if (unseen.has(Level.asn)) return { code: 'new_network', text: `network never seen for this user (AS${ctx.asn})`, weight };
    if (unseen.has(Level.ip)) return { code: 'new_ip', text: 'new IP address on a known network', weight };
    return { code: 'known_network', text: 'known IP address', weight };
  }
  if (term.feature === 'ua') {
    if (unseen.has(Level.deviceType))
      return { code: 'new_device_type', text: `device type never seen for this user (${ctx.deviceType})`, weight };
    if (unseen.has(Level.browserFamily) || unseen.has(Level.osFamily)) {
      return { code: 'new_browser', text: `browser never seen for this user (${ctx.browser} on ${ctx.os})`, weight };
    }
    if (unseen.has(Level.browser) || unseen.has(Level.os))
      return { code: 'new_browser_version', text: `new version of a known browser (${ctx.browser})`, weight };
    if (unseen.has(Level.ua)) return { code: 'new_user_agent', text: 'slightly different browser signature', weight };
    return { code: 'known_browser', text: 'known browser', weight };
  }
  return { code: 'unusual_time', text: `unusual time of day for this user (${String(hourOf(ctx.at)).padStart(2, '0')}:00 UTC)`, weight };
}

function formatElapsed(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return 'less than a minute';
  if (minutes < 120) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} hours` : `${Math.round(hours / 24)} days`;
}
