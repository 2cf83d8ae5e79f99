import type { SignalObservations } from './signals.js';

/**
 * How often each signal fires on legitimate sign-ins, counted as they are learnt. This is the
 * evidence that weighs a signal: a signal legitimate users trip 1 time in 200 multiplies the
 * risk by up to 200 when it fires; one they trip half the time barely moves it.
 */
export class SignalStats {
  readonly fired = { deviceKnown: 0, impossibleTravel: 0, accountFailureBurst: 0, ipFailureBurst: 0, badNetwork: 0 };
  readonly seen = { deviceKnown: 0, impossibleTravel: 0, accountFailureBurst: 0, ipFailureBurst: 0, badNetwork: 0 };

  /** Counts the observations of a sign-in the history now accepts as legitimate. */
  learn(o: SignalObservations): void {
    if (o.deviceKnown !== undefined) this.count('deviceKnown', o.deviceKnown);
    if (o.travel !== undefined) this.count('impossibleTravel', o.impossibleTravel);
    this.count('accountFailureBurst', o.accountFailureBurst);
    this.count('ipFailureBurst', o.ipFailureBurst);
    this.count('badNetwork', o.badNetwork !== undefined);
  }

  /** p(signal | legitimate) with add-one smoothing (starts at 1/2 with no evidence). */
  legitRate(signal: keyof SignalStats['fired']): number {
    return (this.fired[signal] + 1) / (this.seen[signal] + 2);
  }

  private count(signal: keyof SignalStats['fired'], fired: boolean): void {
    this.seen[signal]++;
    if (fired) this.fired[signal]++;
  }
}
