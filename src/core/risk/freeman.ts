import { featureKeys, type FeatureKeys, type LoginContext } from './context.js';
import { FREEMAN_HIERARCHIES, hierarchyTerm, userPriorTerm, type HierarchyTerm } from './hierarchy.js';
import type { GlobalView, UserView } from './history.js';

export interface FreemanScore {
  /** log10 of the likelihood ratio attacker : legitimate user; higher is riskier. */
  score: number;
  terms: HierarchyTerm[];
  userTerm: number;
}

/**
 * Freeman et al., "Who Are You? A Statistical Approach to Measuring User Authenticity" (NDSS
 * 2016), as used by Wiefling et al. (ACM TOPS 2022):
 *   score = Π_k p(x_k | A) / p(x_k | u, L) × p(u | A) / p(u | L)
 * with p(x|A) ≈ global frequency, features IP→ASN→country and UA→browser→OS→device type mixed
 * by weighted interpolation. Returned as log10 so products become sums.
 */
export function freemanScore(ctx: LoginContext, user: UserView, global: GlobalView, keys: FeatureKeys = featureKeys(ctx)): FreemanScore {
  const terms = FREEMAN_HIERARCHIES.map((h) => hierarchyTerm(h, keys, user, global, { kind: 'freeman' }, ctx.at));
  const userTerm = userPriorTerm(user, global);
  return { score: terms.reduce((sum, t) => sum + t.logRatio, userTerm), terms, userTerm };
}
