import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { applyConnectionPragmas } from '../../src/store/sqlite/open.js';

/**
 * sqlite_synchronous (docs/security/crash-safety.md): NORMAL by default — WAL, durable across a
 * process crash — and FULL on request, durable across an OS crash too.
 */

const dir = mkdtempSync(join(tmpdir(), 'twofold-sync-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pragmasFor(synchronous: 'normal' | 'full') {
  const db = new BetterSqlite3(join(dir, `${synchronous}.db`));
  try {
    applyConnectionPragmas(db, synchronous);
    return { journal: db.pragma('journal_mode', { simple: true }), synchronous: db.pragma('synchronous', { simple: true }) };
  } finally {
    db.close();
  }
}

describe('sqlite_synchronous', () => {
  it('defaults to normal, and TWOFOLD_SQLITE_SYNCHRONOUS=full asks for full', () => {
    expect(loadConfig({ env: {}, cwd: dir }).sqliteSynchronous).toBe('normal');
    expect(loadConfig({ env: { TWOFOLD_SQLITE_SYNCHRONOUS: 'full' }, cwd: dir }).sqliteSynchronous).toBe('full');
    expect(() => loadConfig({ env: { TWOFOLD_SQLITE_SYNCHRONOUS: 'off' }, cwd: dir })).toThrow(/sqlite_synchronous/);
  });

  it('sets WAL with synchronous NORMAL (1) or FULL (2) on the connection', () => {
    expect(pragmasFor('normal')).toEqual({ journal: 'wal', synchronous: 1 });
    expect(pragmasFor('full')).toEqual({ journal: 'wal', synchronous: 2 });
  });
});
