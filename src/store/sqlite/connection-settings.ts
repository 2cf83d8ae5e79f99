/**
 * Settings shared by every connection twofold opens on its SQLite file: the serving connection's
 * (open.ts, which adds WAL mode and foreign keys) and the background thread's (background-writer.ts).
 */

/**
 * What the WAL file is cut back to when it starts over (SQLite's journal_size_limit, in bytes).
 * A WAL is reused from its start once a checkpoint has copied all of it, but the file keeps the
 * size of the largest burst it ever held (a mass revocation, an import) until the last connection
 * closes. Steady load stays far below this: 10.8 MB through 150 s of 5 sign-ins, 20 rotations
 * and 5 logouts a second (`npm run bench:soak`, bench/README.md).
 */
export const WAL_SIZE_LIMIT = 32 * 1024 * 1024;

/**
 * The page cache of each connection twofold opens, in KiB (SQLite's cache_size, negative = KiB).
 * better-sqlite3 builds SQLite with 16 MB, where SQLite's own default is 2 MB. A connection drops its
 * whole page cache before its first read after another connection commits, and the touch thread
 * commits several times a second under load. After 3,000 session reads, that first read took 1.7 ms
 * (median; 3.1 ms p90) with 16 MB, 0.1 ms with 1 MiB, on the event loop. Random session reads by
 * token hash on a million rows were no slower with 1 MiB (median 24 µs, 26 µs with 16 MB: the OS
 * page cache holds the file), and peak RSS under the bench was 14–26 MB lower
 * (bench/experiments/page-cache.mjs, bench/README.md).
 */
export const PAGE_CACHE_KIB = 1024;

/**
 * synchronous=NORMAL in WAL mode keeps every committed transaction across a crash of the process
 * (the commit is in the WAL file, in the OS page cache); only an OS crash or power loss can lose the
 * last ones, which FULL (an fsync of the WAL per commit) prevents. docs/security/crash-safety.md.
 */
export function sharedPragmas(synchronous: 'normal' | 'full'): string[] {
  return [
    `synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`,
    `journal_size_limit = ${WAL_SIZE_LIMIT}`,
    `cache_size = -${PAGE_CACHE_KIB}`,
    'busy_timeout = 5000',
  ];
}
