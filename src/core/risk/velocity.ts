/**
 * Failed sign-ins per key (an account, an IP address) in a sliding window: the velocity that
 * gives credential stuffing away. Timestamps only, capped per key so a flood stays bounded.
 */
export class FailureWindows {
  private readonly byKey = new Map<string, number[]>();

  constructor(
    readonly windowMs: number,
    private readonly capPerKey = 1000,
  ) {}

  record(key: string, at: number): void {
    let times = this.byKey.get(key);
    if (!times) this.byKey.set(key, (times = []));
    times.push(at);
    if (times.length > this.capPerKey) times.splice(0, times.length - this.capPerKey);
  }

  /** Failures in (at − window, at]. */
  count(key: string, at: number): number {
    const times = this.byKey.get(key);
    if (!times) return 0;
    const since = at - this.windowMs;
    let drop = 0;
    while (drop < times.length && times[drop]! <= since) drop++;
    if (drop) times.splice(0, drop);
    if (times.length === 0) this.byKey.delete(key);
    let n = 0;
    for (const t of times) if (t <= at) n++;
    return n;
  }

  prune(now: number): void {
    for (const key of [...this.byKey.keys()]) this.count(key, now);
  }
}
