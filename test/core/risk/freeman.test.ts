import { describe, expect, it } from 'vitest';
import { featureKeys } from '../../../src/core/risk/context.js';
import { freemanScore } from '../../../src/core/risk/freeman.js';
import { LoginHistory } from '../../../src/core/risk/history.js';
import { bob, ctx } from './fixtures.js';

/**
 * A world small enough to compute by hand: alice signed in twice (same context), bob once.
 * N = 3 sign-ins, |U| = 2 users. Global level probability (C+1)/(T+D+1).
 */
function world(): LoginHistory {
  const history = new LoginHistory();
  for (const c of [ctx(), ctx({ at: ctx().at + 1000 }), bob()]) history.add(c, featureKeys(c));
  return history;
}

describe('freeman model (Freeman et al., NDSS 2016)', () => {
  it('scores alice in her usual context by hand', () => {
    const history = world();
    const r = freemanScore(ctx({ at: ctx().at + 5000 }), history.user('alice'), history.global);
    // IP, ASN, country: C=2, T=3, D=2 → p(x|A) = 3/6 = 0.5 at each level; p(x|alice) = 2/(2+1).
    const ipRatio = 0.5 / (2 / 3);
    // UA, browser as above (0.5); OS and device type are shared by everyone: C=3, T=3, D=1 → 4/5.
    const uaAttacker = 0.5386 * 0.5 + 0.2949 * 0.5 + 0.1283 * 0.8 + 0.0382 * 0.8;
    const uaRatio = uaAttacker / (2 / 3);
    // p(u|A)/p(u|L) = (1/|U|) / ((n_u+1)/(N+|U|)) = (3+2) / (2·3).
    const userRatio = 5 / 6;
    expect(r.terms[0]!.logRatio).toBeCloseTo(Math.log10(ipRatio), 10);
    expect(r.terms[1]!.logRatio).toBeCloseTo(Math.log10(uaRatio), 10);
    expect(r.userTerm).toBeCloseTo(Math.log10(userRatio), 10);
    expect(r.score).toBeCloseTo(Math.log10(ipRatio * uaRatio * userRatio), 10);
    expect(r.score).toBeCloseTo(-0.2877, 3);
  });

  it("scores bob's context on alice's account by hand: unseen values cost n+1 at their level", () => {
    const history = world();
    const r = freemanScore(bob({ userId: 'alice', at: ctx().at + 5000 }), history.user('alice'), history.global);
    // Every IP level unseen: p(x|alice) = p(x|A)/(n+1), so the interpolated ratio is exactly 3.
    expect(r.terms[0]!.logRatio).toBeCloseTo(Math.log10(3), 10);
    expect(r.terms[0]!.unseenLevels).toEqual([0, 1, 2]);
    // UA and browser unseen (p(x|A) = 2/6); OS and device type known (4/5 vs 2/3).
    const pa = 0.5386 / 3 + 0.2949 / 3 + (0.1283 + 0.0382) * 0.8;
    const pu = 0.5386 / 9 + 0.2949 / 9 + (0.1283 + 0.0382) * (2 / 3);
    expect(r.terms[1]!.logRatio).toBeCloseTo(Math.log10(pa / pu), 10);
    expect(r.score).toBeCloseTo(Math.log10(3 * (pa / pu) * (5 / 6)), 10);
  });

  it('is neutral on features for a user with no history, and the user prior carries the doubt', () => {
    const history = world();
    const r = freemanScore(ctx({ userId: 'carol' }), history.user('carol'), history.global);
    expect(r.terms.map((t) => t.logRatio)).toEqual([0, 0]);
    expect(r.userTerm).toBeCloseTo(Math.log10(5 / 2), 10);
  });

  it("ranks an unseen context above the user's own", () => {
    const history = world();
    const usual = freemanScore(ctx({ at: ctx().at + 5000 }), history.user('alice'), history.global).score;
    const foreign = freemanScore(bob({ userId: 'alice' }), history.user('alice'), history.global).score;
    expect(foreign).toBeGreaterThan(usual);
  });
});
