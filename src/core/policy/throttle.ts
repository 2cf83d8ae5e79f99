export interface ThrottleRules {
  failuresBeforeDelay: number;
  maxDelayMs: number;
}

/**
 * Growing delays instead of a lockout (NIST 800-63B §5.2.2): after a few consecutive failures each
 * further try on the account waits 1 s, 2 s, 4 s, ... up to the cap, so guessing stays slow while
 * nobody can lock a victim out for good by failing on purpose.
 */
export function accountDelayMs(consecutiveFailures: number, rules: ThrottleRules): number {
  const over = consecutiveFailures - rules.failuresBeforeDelay;
  if (over < 0) return 0;
  return Math.min(1000 * 2 ** Math.min(over, 30), rules.maxDelayMs);
}
