import { Level, type FeatureKeys } from './context.js';
import type { GlobalView, UserView, ValueStat } from './history.js';

/** A feature and its levels from finest to coarsest, mixed by weighted interpolation. */
export interface Hierarchy {
  feature: 'ip' | 'ua' | 'time';
  levels: ReadonlyArray<{ level: number; weight: number }>;
}

/**
 * Freeman et al.'s two features. Weights favour the finest level, in the manner of Wiefling et
 * al.'s RBA studies; they sum to 1 and are configurable by code, not guessed per sign-in.
 */
export const FREEMAN_HIERARCHIES: readonly Hierarchy[] = [
  {
    feature: 'ip',
    levels: [
      { level: Level.ip, weight: 0.6 },
      { level: Level.asn, weight: 0.3 },
      { level: Level.country, weight: 0.1 },
    ],
  },
  {
    feature: 'ua',
    levels: [
      { level: Level.ua, weight: 0.5386 },
      { level: Level.browser, weight: 0.2949 },
      { level: Level.os, weight: 0.1283 },
      { level: Level.deviceType, weight: 0.0382 },
    ],
  },
];

/**
 * p(value | attacker) at one level ≈ its global frequency, with add-one smoothing over the values
 * seen plus one slot for the unseen: (C(x) + 1) / (T + D + 1).
 */
export function attackerProbability(global: GlobalView, level: number, key: string): number {
  return (global.count(key) + 1) / (global.total(level) + global.distinct(level) + 1);
}

/**
 * How p(value | user, legitimate) treats a value at one level.
 * - `freeman`: seen values c/(n+1); an unseen value shares the remaining 1/(n+1) in proportion to
 *   its global frequency (so an unseen value's ratio at that level is n+1, whatever its value).
 * - `witten-bell`: the mass kept for unseen values is (d+1)/(n+d+1), d being the distinct values
 *   the user has shown: a user who often shows new networks is less suspicious for one more.
 *   Values last seen longer than `staleAfterMs` ago count half (recency).
 */
export type Smoothing = { kind: 'freeman' } | { kind: 'witten-bell'; staleAfterMs: number };

export function userProbability(
  user: UserView,
  level: number,
  stat: ValueStat | undefined,
  pAttacker: number,
  smoothing: Smoothing,
  now: number,
): number {
  const n = user.logins;
  if (smoothing.kind === 'freeman') {
    return stat ? stat.count / (n + 1) : pAttacker / (n + 1);
  }
  const d = user.distinct(level);
  const denominator = n + d + 1;
  if (!stat) return ((d + 1) / denominator) * pAttacker;
  const count = now - stat.lastSeen > smoothing.staleAfterMs ? stat.count / 2 : stat.count;
  return count / denominator;
}

export interface HierarchyTerm {
  feature: Hierarchy['feature'];
  /** log10 of p(value|attacker) / p(value|user, legitimate), interpolated over the levels. */
  logRatio: number;
  /** The levels whose value the user has never shown (in history order, finest first). */
  unseenLevels: number[];
}

export function hierarchyTerm(
  hierarchy: Hierarchy,
  keys: FeatureKeys,
  user: UserView,
  global: GlobalView,
  smoothing: Smoothing,
  now: number,
): HierarchyTerm {
  let pAttacker = 0;
  let pUser = 0;
  const unseenLevels: number[] = [];
  for (const { level, weight } of hierarchy.levels) {
    const key = keys[level];
    if (key === undefined) continue;
    const pa = attackerProbability(global, level, key);
    const stat = user.stat(key);
    pAttacker += weight * pa;
    pUser += weight * userProbability(user, level, stat, pa, smoothing, now);
    if (!stat) unseenLevels.push(level);
  }
  const logRatio = pAttacker > 0 && pUser > 0 ? Math.log10(pAttacker / pUser) : 0;
  return { feature: hierarchy.feature, logRatio, unseenLevels };
}

/**
 * log10 p(u|A)/p(u|L) with p(u|A) = 1/|U| and p(u|L) = (n_u+1)/(N+|U|): add-one smoothing so a
 * user with no sign-ins yet is not infinitely suspicious.
 */
export function userPriorTerm(user: UserView, global: GlobalView): number {
  const users = Math.max(1, global.users);
  return Math.log10((global.logins + users) / (users * (user.logins + 1)));
}
