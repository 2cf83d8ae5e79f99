import { afterEach, describe, expect, it } from 'vitest';
import { addUser } from '../../src/auth/users.js';
import { hashToken, newSessionId, type TokenHash } from '../../src/core/ids.js';
import { startSession } from '../../src/core/session/session.js';
import { startRefreshFamily } from '../../src/core/tokens/refresh-family.js';
import { describeWithServices } from '../support/postgres.js';
import { startHarness, type Harness } from '../support/harness.js';
import { STRONG_PASSWORD } from '../http/client.js';

/**
 * The refresh-token store's one promise that security rests on: of any number of concurrent
 * rotations of one token, exactly one succeeds. On PostgreSQL the calls run on separate pooled
 * connections at the same time, so the conditional UPDATE's row lock is what decides.
 */

function contract(postgres: boolean) {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  async function family(): Promise<{ h: Harness; first: TokenHash; familyId: string }> {
    h = await startHarness({ postgres });
    const user = await addUser(h.deps, { username: 'carol', password: STRONG_PASSWORD, isAdmin: false }, null);
    const now = h.clock.now();
    const session = startSession(
      {
        id: newSessionId(h.deps.random),
        userId: user.id,
        kind: 'full',
        amr: [{ method: 'pwd', at: now }],
        now,
        ip: '127.0.0.1',
        userAgent: 'test',
      },
      h.deps.config.session,
    );
    await h.deps.store.sessions.create(session, hashToken('session-secret'));
    const fam = startRefreshFamily({ id: 'rtf_test', sessionId: session.id, userId: user.id, now }, h.deps.config.tokens);
    const first = hashToken('first refresh token');
    await h.deps.store.refreshTokens.createFamily(fam, first);
    return { h, first, familyId: fam.id };
  }

  it('twenty concurrent rotations of one token: exactly one wins, and only its successor is stored', async () => {
    const { h, first, familyId } = await family();
    const now = h.clock.now();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => h.deps.store.refreshTokens.rotate(first, hashToken(`successor ${i}`), now, now + 60_000)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true);
    expect((await h.deps.store.refreshTokens.find(hashToken(`successor ${winner}`)))?.family.id).toBe(familyId);
    for (let i = 0; i < 20; i++)
      if (i !== winner) expect(await h.deps.store.refreshTokens.find(hashToken(`successor ${i}`))).toBeUndefined();
    expect((await h.deps.store.refreshTokens.find(first))?.token.usedAt).toBe(now);
  });

  it('a used token never rotates again; revoking a family is idempotent', async () => {
    const { h, first, familyId } = await family();
    const now = h.clock.now();
    expect(await h.deps.store.refreshTokens.rotate(first, hashToken('second'), now, now + 1)).toBe(true);
    expect(await h.deps.store.refreshTokens.rotate(first, hashToken('third'), now, now + 1)).toBe(false);
    expect(await h.deps.store.refreshTokens.revokeFamily(familyId, now, 'test')).toBe(true);
    expect(await h.deps.store.refreshTokens.revokeFamily(familyId, now, 'test')).toBe(false);
    expect((await h.deps.store.refreshTokens.find(hashToken('second')))?.family).toMatchObject({ revokedAt: now, revokedReason: 'test' });
  });
}

describe('refresh-token store on SQLite', () => contract(false));
describeWithServices('refresh-token store on PostgreSQL', {}, () => contract(true));
