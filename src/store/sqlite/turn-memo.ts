/**
 * A reading reused for the rest of the current event-loop turn, and never for longer than
 * `maxAgeMs`. Under load one turn answers every request whose bytes the poll phase found ready
 * (dozens at 50 connections): they all arrived before the first of them was read, so judging them
 * against one reading taken at that point is as current as reading again for each. A later turn
 * (setImmediate runs after the poll phase) reads afresh.
 *
 * Used for SQLite's data_version (open.ts): the one system call a cached session check makes.
 */
export function oncePerTurn<T>(read: () => T, options: { maxAgeMs?: number; now?: () => number } = {}): () => T {
  const maxAgeMs = options.maxAgeMs ?? 1;
  const now = options.now ?? (() => performance.now());
  let value: T;
  let fresh = false;
  let readAt = 0;
  const expire = (): void => {
    fresh = false;
  };
  return () => {
    if (fresh && now() - readAt < maxAgeMs) return value;
    value = read();
    readAt = now();
    if (!fresh) setImmediate(expire);
    fresh = true;
    return value;
  };
}
