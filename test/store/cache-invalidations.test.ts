import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionId } from '../../src/core/ids.js';
import { hashToken } from '../../src/core/ids.js';
import { SESSION_ACTIVITY_COLUMNS, SESSION_COLUMNS_LOGGED } from '../../src/store/migrations/009-cache-invalidations.js';
import { openSqliteStore, type OpenedSqliteStore } from '../../src/store/sqlite/open.js';
import { liveSession, storedUser } from '../support/records.js';

/**
 * What other connections changed, as the serving process learns it (src/store/sqlite/
 * cache-invalidations.ts, from the triggers of migration 009): every change to a session but its
 * activity times, every change to a user, a factor reset; nothing for a touch, so the touch thread's
 * commits (sqlite/background-writer.ts) keep the session cache.
 */
const NOW = 1_800_000_000_000;
let dir: string;
let opened: OpenedSqliteStore;
let other: BetterSqlite3.Database;

const session = (id: string, userId = 'usr_1') => liveSession(id, userId, NOW);

/** The reader answers from the next event-loop turn (data_version is read once per turn). */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
async function changes() {
  await nextTurn();
  return opened.externalChanges();
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'twofold-invalidations-'));
  opened = await openSqliteStore(join(dir, 'twofold.db'));
  for (const id of ['usr_1', 'usr_2']) {
    await opened.store.users.create(storedUser(id, NOW));
  }
  await opened.store.sessions.create(session('ses_a'), hashToken('a'.repeat(43)));
  await opened.store.sessions.create(session('ses_b', 'usr_2'), hashToken('b'.repeat(43)));
  other = new BetterSqlite3(join(dir, 'twofold.db'));
  other.pragma('busy_timeout = 5000');
  // The store's own writes above are logged too; start from here.
  other.prepare('UPDATE users SET display_name = display_name WHERE 0').run();
  await changes();
  await changes();
});

afterEach(async () => {
  other?.close();
  await opened?.store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the log of what other connections changed', () => {
  it('logs every column of a session but the two a touch writes (a new column cannot be forgotten)', () => {
    const columns = other.prepare('SELECT name FROM pragma_table_info(?)').pluck().all('sessions') as string[];
    expect([...SESSION_COLUMNS_LOGGED, ...SESSION_ACTIVITY_COLUMNS].sort()).toEqual([...columns].sort());
  });

  it('names a session revoked by another connection, and nothing else', async () => {
    other.prepare("UPDATE sessions SET revoked_at = ?, revoked_reason = 'cli' WHERE id = 'ses_a'").run(NOW);
    expect(await changes()).toEqual({ sessions: ['ses_a'], users: [] });
    expect(await changes()).toBeNull();
  });

  it.each(SESSION_COLUMNS_LOGGED.filter((c) => c !== 'id' && c !== 'token_hash' && c !== 'user_id'))(
    'names a session whose %s changed',
    async (column) => {
      other.prepare(`UPDATE sessions SET ${column} = ${column} WHERE id = 'ses_b'`).run();
      expect(await changes()).toEqual({ sessions: ['ses_b'], users: [] });
    },
  );

  it('logs nothing for a touch, though the commit moves data_version', async () => {
    other.prepare("UPDATE sessions SET last_seen_at = ?, idle_expires_at = ? WHERE id = 'ses_a'").run(NOW + 60_000, NOW + 1_860_000);
    expect(await changes()).toBeNull();
  });

  it('names a user changed or deleted, and the user of a deleted factor or passkey', async () => {
    other.prepare("UPDATE users SET disabled = 1 WHERE id = 'usr_1'").run();
    expect(await changes()).toEqual({ sessions: [], users: ['usr_1'] });
    other
      .prepare(
        "INSERT INTO totp_factors (id, user_id, secret_sealed, algorithm, digits, period, created_at) VALUES ('totp_1', 'usr_2', 'x', 'SHA1', 6, 30, ?)",
      )
      .run(NOW);
    expect(await changes()).toBeNull();
    other.prepare("DELETE FROM totp_factors WHERE user_id = 'usr_2'").run();
    expect(await changes()).toEqual({ sessions: [], users: ['usr_2'] });
    other.prepare("DELETE FROM sessions WHERE id = 'ses_b'").run();
    other.prepare("DELETE FROM users WHERE id = 'usr_2'").run();
    expect(await changes()).toEqual({ sessions: ['ses_b'], users: ['usr_2'] });
  });

  it('says "unknown" (drop everything) after more entries than it reads at once, or a log that went backwards', async () => {
    const revoke = other.prepare("UPDATE sessions SET revoked_reason = ? WHERE id = 'ses_a'");
    other.transaction(() => {
      for (let i = 0; i < 10_050; i++) revoke.run(`r${i}`);
    })();
    expect(other.prepare('SELECT count(*) FROM cache_invalidations').pluck().get()).toBe(10_000);
    expect(await changes()).toBe('unknown');
    revoke.run('after');
    expect(await changes()).toEqual({ sessions: ['ses_a'], users: [] });
    other.prepare('DELETE FROM cache_invalidations').run();
    other.prepare('DELETE FROM sqlite_sequence').run();
    expect(await changes()).toBe('unknown');
  });

  it('keeps this process answering: the background thread writes what the store was asked to touch', async () => {
    await opened.store.sessions.touch('ses_a' as SessionId, NOW + 120_000, NOW + 1_920_000);
    // This process sees its own touch at once; the file has it within the batch interval (100 ms).
    expect((await opened.store.sessions.findById('ses_a' as SessionId))?.lastSeenAt).toBe(NOW + 120_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(other.prepare("SELECT last_seen_at FROM sessions WHERE id = 'ses_a'").pluck().get()).toBe(NOW + 120_000);
    expect(await changes()).toBeNull();
  });
});
