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

/**
 * The most attempts one budget admits within `windowMs` from a clean start: the free tries at once,
 * then one after each delay. This is the documented bound (docs/security/brute-force.md) that the
 * abuse tests hold the running server to.
 */
export function attemptsAllowedWithin(windowMs: number, rules: ThrottleRules): number {
  let attempts = 0;
  let at = 0;
  while (at <= windowMs && attempts < 1_000_000) {
    attempts++;
    at += accountDelayMs(attempts, rules);
  }
  return attempts;
}

/** One budget a password attempt draws on: its counter key and the delays it earns. */
export interface PasswordBudget {
  key: string;
  rules: ThrottleRules;
}

/** Who is trying: the normalised username, the client address, and a device known to this account. */
export interface PasswordAttempt {
  username: string;
  ip: string;
  /**
   * Hash of a device cookie that has completed a sign-in to this account before. Unforgeable in
   * practice (128 random bits the attacker never saw), so it earns its own budget.
   */
  knownDevice?: string;
}

/** How much more failures an account tolerates from everywhere than from one address (spraying one account from many IPs). */
export const ACCOUNT_FACTOR = 10;

/**
 * Which budgets a password attempt spends (OWASP "Slow down online guessing attacks with device
 * cookies"; Authelia's regulation). An unknown browser spends the account-and-address budget and the
 * account's shared budget, so spraying one account from many addresses slows that account down. A
 * device known to the account spends only its own budget: failures of strangers, however many,
 * never make the account's own browser wait (no lockout DoS), and a thief of that cookie still gets
 * only the same growing delays. The per-address hourly cap is a separate counter (src/auth/throttles.ts).
 */
export function passwordBudgets(attempt: PasswordAttempt, rules: ThrottleRules): PasswordBudget[] {
  if (attempt.knownDevice !== undefined) return [{ key: `device:${attempt.username}:${attempt.knownDevice}`, rules }];
  return [
    { key: `pair:${attempt.username}:${attempt.ip}`, rules },
    { key: `account:${attempt.username}`, rules: { ...rules, failuresBeforeDelay: rules.failuresBeforeDelay * ACCOUNT_FACTOR } },
  ];
}
