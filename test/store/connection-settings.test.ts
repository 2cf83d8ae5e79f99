import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { PAGE_CACHE_KIB, sharedPragmas, WAL_SIZE_LIMIT } from '../../src/store/sqlite/connection-settings.js';
import { applyConnectionPragmas } from '../../src/store/sqlite/open.js';

/**
 * The settings every SQLite connection of twofold's shares (connection-settings.ts): the serving
 * connection's (applyConnectionPragmas) and the background thread's (its worker runs the same list).
 */

const dir = mkdtempSync(join(tmpdir(), 'twofold-connection-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function settingsOf(db: BetterSqlite3.Database) {
  const read = (name: string) => db.pragma(name, { simple: true });
  return {
    cacheSize: read('cache_size'),
    journalSizeLimit: read('journal_size_limit'),
    synchronous: read('synchronous'),
    busyTimeout: read('busy_timeout'),
  };
}

describe('SQLite connection settings', () => {
  it("replace better-sqlite3's 16 MB page cache with 1 MiB", () => {
    const db = new BetterSqlite3(join(dir, 'plain.db'));
    try {
      // The driver's build default, which a connection would otherwise keep (and drop whole after
      // every commit of another connection).
      expect(db.pragma('cache_size', { simple: true })).toBe(-16000);
      for (const pragma of sharedPragmas('normal')) db.pragma(pragma);
      expect(settingsOf(db)).toEqual({ cacheSize: -PAGE_CACHE_KIB, journalSizeLimit: WAL_SIZE_LIMIT, synchronous: 1, busyTimeout: 5000 });
      expect(PAGE_CACHE_KIB).toBe(1024);
    } finally {
      db.close();
    }
  });

  it("are the serving connection's, with WAL and foreign keys on top", () => {
    const db = new BetterSqlite3(join(dir, 'serving.db'));
    try {
      applyConnectionPragmas(db, 'full');
      expect(settingsOf(db)).toEqual({ cacheSize: -PAGE_CACHE_KIB, journalSizeLimit: WAL_SIZE_LIMIT, synchronous: 2, busyTimeout: 5000 });
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    } finally {
      db.close();
    }
  });
});
