import type BetterSqlite3 from 'better-sqlite3';
import type { ExternalChanges } from '../store.js';

/** More entries than this since the last look: dropping everything is cheaper than evicting each. */
const MAX_ENTRIES = 1000;

/**
 * What other connections changed, read from the log the triggers of migration 009 keep
 * (009-cache-invalidations.ts), asked on every cached session check. Cheap when nothing moved:
 * `version()` is SQLite's data_version (read from the WAL index, once per event-loop turn: open.ts),
 * which stays put until another connection commits; only then is the log read, from the last entry seen.
 *
 * 'unknown' (the cache drops everything) when the log cannot say: more than MAX_ENTRIES entries
 * since the last look, entries trimmed before they were read (a gap), or a log that went backwards
 * (the file was replaced by an older copy).
 */
export function cacheInvalidationReader(sqlite: BetterSqlite3.Database, version: () => number): () => ExternalChanges {
  const since = sqlite.prepare('SELECT seq, kind, ref FROM cache_invalidations WHERE seq > ? ORDER BY seq LIMIT ?');
  const last = sqlite.prepare('SELECT coalesce(max(seq), 0) FROM cache_invalidations').pluck();
  let seenVersion = version();
  let seenSeq = last.get() as number;
  return () => {
    const current = version();
    if (current === seenVersion) return null;
    seenVersion = current;
    const rows = since.all(seenSeq, MAX_ENTRIES + 1) as Array<{ seq: number; kind: 'session' | 'user'; ref: string }>;
    if (rows.length === 0) {
      const latest = last.get() as number;
      if (latest >= seenSeq) return null;
      seenSeq = latest;
      return 'unknown';
    }
    const gap = rows[0]!.seq !== seenSeq + 1;
    seenSeq = rows.length > MAX_ENTRIES ? (last.get() as number) : rows[rows.length - 1]!.seq;
    if (gap || rows.length > MAX_ENTRIES) return 'unknown';
    const sessions: string[] = [];
    const users: string[] = [];
    for (const row of rows) (row.kind === 'session' ? sessions : users).push(row.ref);
    return { sessions, users };
  };
}
