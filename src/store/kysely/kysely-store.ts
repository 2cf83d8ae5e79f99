import { CompiledQuery, sql, type Compilable, type Kysely, type QueryResult, type Selectable } from 'kysely';
import type { Database, SessionsTable, UsersTable } from '../schema.js';
import {
  UsernameTakenError,
  type EventStore,
  type FactorStore,
  type PendingLoginStore,
  type SessionStore,
  type SetupTokenStore,
  type Store,
  type UserStore,
} from '../store.js';
import { adminQueryStore } from './admin-query-store.js';
import { signingKeyStore } from './key-store.js';
import { refreshTokenStore } from './token-store.js';
import { webauthnStore } from './webauthn-store.js';
import { loginHistoryStore, trustedDeviceStore } from './risk-store.js';
import { housekeepingStore } from './housekeeping-store.js';
import { webhookStore } from './webhook-store.js';
import { fromEvent, fromSession, fromUser, toEvent, toPendingLogin, toSession, toTotp, toUser } from './rows.js';

/** True for a unique-constraint violation in SQLite or PostgreSQL. */
const isUniqueViolation = (err: unknown): boolean => {
  const e = err as { code?: string; message?: string };
  return e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === '23505' || /UNIQUE constraint/.test(e.message ?? '');
};

const changed = (result: { numUpdatedRows?: bigint; numDeletedRows?: bigint }): number =>
  Number(result.numUpdatedRows ?? result.numDeletedRows ?? 0n);

/**
 * A query built and compiled by Kysely once, at start, rather than on every call: for the lookups
 * behind every cache miss and the touch write, building and compiling the query tree cost about as
 * much as running it. `build` receives stand-ins for the arguments; each call runs the very same
 * SQL with the real values in their places.
 */
function precompiled<Row, Args extends unknown[]>(
  db: Kysely<Database>,
  arity: Args['length'],
  build: (...args: any[]) => Compilable<Row>,
): (...args: Args) => Promise<QueryResult<Row>> {
  const standIns = Array.from({ length: arity }, (_, i) => `\u0000precompiled-argument-${i}`);
  const { sql: text, parameters } = build(...standIns).compile();
  const positions = parameters.map((p) => standIns.indexOf(p as string));
  if (positions.includes(-1) || new Set(positions).size !== arity) {
    throw new Error(`precompiled query does not take its ${arity} arguments as parameters: ${text}`);
  }
  return (...args) =>
    db.executeQuery<Row>(
      CompiledQuery.raw(
        text,
        positions.map((i) => args[i]),
      ),
    );
}

function userStore(db: Kysely<Database>): UserStore {
  const findById = precompiled<Selectable<UsersTable>, [string]>(db, 1, (id) => db.selectFrom('users').selectAll().where('id', '=', id));
  return {
    async create(user) {
      try {
        await db.insertInto('users').values(fromUser(user)).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw new UsernameTakenError(user.username);
        throw err;
      }
    },
    async findById(id) {
      const row = (await findById(id)).rows[0];
      return row && toUser(row);
    },
    async findByUsername(username) {
      const row = await db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
      return row && toUser(row);
    },
    async list() {
      return (await db.selectFrom('users').selectAll().orderBy('username').execute()).map(toUser);
    },
    async count() {
      const row = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async setPasswordHash(id, passwordHash, now) {
      await db.updateTable('users').set({ password_hash: passwordHash, updated_at: now }).where('id', '=', id).execute();
    },
    async setDisabled(id, disabled, now) {
      await db
        .updateTable('users')
        .set({ disabled: disabled ? 1 : 0, updated_at: now })
        .where('id', '=', id)
        .execute();
    },
    async addFactorFailure(id) {
      const row = await db
        .updateTable('users')
        .set((eb) => ({ factor_failures: eb('factor_failures', '+', 1) }))
        .where('id', '=', id)
        .returning('factor_failures')
        .executeTakeFirst();
      return Number(row?.factor_failures ?? 0);
    },
    async resetFactorFailures(id) {
      await db.updateTable('users').set({ factor_failures: 0 }).where('id', '=', id).where('factor_failures', '>', 0).execute();
    },
  };
}

function factorStore(db: Kysely<Database>): FactorStore {
  return {
    async findConfirmedTotp(userId) {
      const row = await db
        .selectFrom('totp_factors')
        .selectAll()
        .where('user_id', '=', userId)
        .where('confirmed_at', 'is not', null)
        .executeTakeFirst();
      return row && toTotp(row);
    },
    async findPendingTotp(userId) {
      const row = await db
        .selectFrom('totp_factors')
        .selectAll()
        .where('user_id', '=', userId)
        .where('confirmed_at', 'is', null)
        .executeTakeFirst();
      return row && toTotp(row);
    },
    async savePendingTotp(f) {
      await db.transaction().execute(async (tx) => {
        await tx.deleteFrom('totp_factors').where('user_id', '=', f.userId).where('confirmed_at', 'is', null).execute();
        await tx
          .insertInto('totp_factors')
          .values({
            id: f.id,
            user_id: f.userId,
            secret_sealed: f.secretSealed,
            algorithm: f.algorithm,
            digits: f.digits,
            period: f.period,
            confirmed_at: null,
            last_used_step: null,
            created_at: f.createdAt,
          })
          .execute();
      });
    },
    async confirmTotp(factorId, userId, step, codeHashes, now) {
      return db.transaction().execute(async (tx) => {
        const confirmed = await tx
          .updateTable('totp_factors')
          .set({ confirmed_at: now, last_used_step: step })
          .where('id', '=', factorId)
          .where('user_id', '=', userId)
          .where('confirmed_at', 'is', null)
          .executeTakeFirst();
        if (changed(confirmed) !== 1) return false;
        await tx.deleteFrom('totp_factors').where('user_id', '=', userId).where('id', '!=', factorId).execute();
        await replaceCodes(tx, userId, codeHashes, now);
        return true;
      });
    },
    async claimTotpStep(factorId, step) {
      // The comparison happens inside the UPDATE, so two nodes or requests racing with one code
      // cannot both win (RFC 6238 §5.2: a verifier must not accept the same OTP twice).
      const result = await db
        .updateTable('totp_factors')
        .set({ last_used_step: step })
        .where('id', '=', factorId)
        .where((eb) => eb.or([eb('last_used_step', 'is', null), eb('last_used_step', '<', step)]))
        .executeTakeFirst();
      return changed(result) === 1;
    },
    async replaceRecoveryCodes(userId, codeHashes, now) {
      await db.transaction().execute((tx) => replaceCodes(tx, userId, codeHashes, now));
    },
    async useRecoveryCode(userId, codeHash, now) {
      const result = await db
        .updateTable('recovery_codes')
        .set({ used_at: now })
        .where('user_id', '=', userId)
        .where('code_hash', '=', codeHash)
        .where('used_at', 'is', null)
        .executeTakeFirst();
      return changed(result) >= 1;
    },
    async countRecoveryCodesLeft(userId) {
      const row = await db
        .selectFrom('recovery_codes')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('user_id', '=', userId)
        .where('used_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async removeAll(userId) {
      await db.transaction().execute(async (tx) => {
        await tx.deleteFrom('totp_factors').where('user_id', '=', userId).execute();
        await tx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
        await tx.deleteFrom('webauthn_credentials').where('user_id', '=', userId).execute();
        await tx.deleteFrom('webauthn_challenges').where('user_id', '=', userId).execute();
      });
    },
  };
}

async function replaceCodes(tx: Kysely<Database>, userId: string, codeHashes: string[], now: number): Promise<void> {
  await tx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  if (codeHashes.length === 0) return;
  await tx
    .insertInto('recovery_codes')
    .values(codeHashes.map((code_hash) => ({ user_id: userId, code_hash, used_at: null, created_at: now })))
    .execute();
}

/** The session columns authenticate() needs: all but the sign-in origin of migration 005 (admin console only). */
const VALIDATION_COLUMNS = [
  'id',
  'token_hash',
  'user_id',
  'kind',
  'aal',
  'amr',
  'auth_time',
  'created_at',
  'last_seen_at',
  'idle_expires_at',
  'expires_at',
  'ip',
  'user_agent',
  'revoked_at',
  'revoked_reason',
  'idle_timeout_ms',
  // Continuous evaluation compares it on every validation (migration 006).
  'device_hash',
] as const satisfies ReadonlyArray<keyof SessionsTable>;

function sessionStore(db: Kysely<Database>): SessionStore {
  // The hot path reads only what validating a session needs; not the origin columns of migration 005.
  const findByTokenHash = precompiled<Selectable<SessionsTable>, [string]>(db, 1, (tokenHash) =>
    db.selectFrom('sessions').select(VALIDATION_COLUMNS).where('token_hash', '=', tokenHash),
  );
  const touch = precompiled<never, [number, number, string]>(db, 3, (lastSeenAt, idleExpiresAt, id) =>
    db
      .updateTable('sessions')
      .set({ last_seen_at: lastSeenAt, idle_expires_at: idleExpiresAt })
      .where('id', '=', id)
      .where('revoked_at', 'is', null),
  );
  return {
    async create(session, tokenHash) {
      await db.insertInto('sessions').values(fromSession(session, tokenHash)).execute();
    },
    async findByTokenHash(tokenHash) {
      const row = (await findByTokenHash(tokenHash)).rows[0];
      return row && toSession(row);
    },
    async findById(id) {
      const row = await db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toSession(row);
    },
    async touch(id, lastSeenAt, idleExpiresAt) {
      await touch(lastSeenAt, idleExpiresAt, id);
    },
    async listActive(now, filter = {}) {
      let query = db
        .selectFrom('sessions')
        .selectAll()
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .where('idle_expires_at', '>', now);
      if (filter.userId) query = query.where('user_id', '=', filter.userId);
      return (await query.orderBy('created_at', 'desc').execute()).map(toSession);
    },
    async revoke(id, now, reason) {
      const result = await db
        .updateTable('sessions')
        .set({ revoked_at: now, revoked_reason: reason })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return changed(result) === 1;
    },
    async revokeAllForUser(userId, now, reason, exceptId) {
      let query = db
        .updateTable('sessions')
        .set({ revoked_at: now, revoked_reason: reason })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now);
      if (exceptId) query = query.where('id', '!=', exceptId);
      return changed(await query.executeTakeFirst());
    },
  };
}

function pendingLoginStore(db: Kysely<Database>): PendingLoginStore {
  return {
    async create(p, tokenHash) {
      await db
        .insertInto('pending_logins')
        .values({
          id: p.id,
          token_hash: tokenHash,
          user_id: p.userId,
          created_at: p.createdAt,
          expires_at: p.expiresAt,
          attempts: p.attempts,
          consumed_at: p.consumedAt,
          ip: p.ip,
          user_agent: p.userAgent,
          session_type: p.sessionType ?? 'cookie',
        })
        .execute();
    },
    async findByTokenHash(tokenHash) {
      const row = await db.selectFrom('pending_logins').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
      return row && toPendingLogin(row);
    },
    async addAttempt(id) {
      const row = await db
        .updateTable('pending_logins')
        .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
        .where('id', '=', id)
        .returning('attempts')
        .executeTakeFirst();
      return Number(row?.attempts ?? Number.MAX_SAFE_INTEGER);
    },
    async consume(id, now) {
      const result = await db
        .updateTable('pending_logins')
        .set({ consumed_at: now })
        .where('id', '=', id)
        .where('consumed_at', 'is', null)
        .executeTakeFirst();
      return changed(result) === 1;
    },
  };
}

function setupTokenStore(db: Kysely<Database>): SetupTokenStore {
  return {
    async replace(tokenHash, now, expiresAt) {
      await db.transaction().execute(async (tx) => {
        await tx.updateTable('setup_tokens').set({ used_at: now }).where('used_at', 'is', null).execute();
        await tx
          .insertInto('setup_tokens')
          .values({ token_hash: tokenHash, created_at: now, expires_at: expiresAt, used_at: null })
          .execute();
      });
    },
    async consume(tokenHash, now) {
      const result = await db
        .updateTable('setup_tokens')
        .set({ used_at: now })
        .where('token_hash', '=', tokenHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return changed(result) === 1;
    },
    async isValid(tokenHash, now) {
      const row = await db
        .selectFrom('setup_tokens')
        .select('token_hash')
        .where('token_hash', '=', tokenHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return row !== undefined;
    },
  };
}

function eventStore(db: Kysely<Database>): EventStore {
  return {
    async append(e) {
      await db.insertInto('events').values(fromEvent(e)).execute();
    },
    async list(filter) {
      let query = db.selectFrom('events').selectAll();
      if (filter.userId) query = query.where('user_id', '=', filter.userId);
      if (filter.beforeId !== undefined) query = query.where('id', '<', filter.beforeId);
      return (await query.orderBy('id', 'desc').limit(filter.limit).execute()).map(toEvent);
    },
  };
}

export function createKyselyStore(db: Kysely<Database>): Store {
  return {
    users: userStore(db),
    factors: factorStore(db),
    sessions: sessionStore(db),
    pendingLogins: pendingLoginStore(db),
    setupTokens: setupTokenStore(db),
    events: eventStore(db),
    signingKeys: signingKeyStore(db),
    refreshTokens: refreshTokenStore(db),
    webauthn: webauthnStore(db),
    loginHistory: loginHistoryStore(db),
    trustedDevices: trustedDeviceStore(db),
    webhooks: webhookStore(db),
    admin: adminQueryStore(db),
    housekeeping: housekeepingStore(db),
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      await db.destroy();
    },
  };
}
