import type { Kysely, Selectable } from 'kysely';
import type { UserId } from '../../core/ids.js';
import type { LoginContext } from '../../core/risk/context.js';
import type { Database, LoginHistoryTable, TrustedDevicesTable } from '../schema.js';
import type { LoginHistoryStore, TrustedDevice, TrustedDeviceStore } from '../store.js';

/** PostgreSQL returns bigint columns as strings; SQLite as numbers. */
const num = (value: unknown): number => Number(value);
const changed = (result: { numUpdatedRows?: bigint; numDeletedRows?: bigint }): number =>
  Number(result.numUpdatedRows ?? result.numDeletedRows ?? 0n);

export function toLogin(r: Selectable<LoginHistoryTable>): LoginContext {
  const login: LoginContext = {
    at: num(r.at),
    userId: r.user_id,
    ip: r.ip,
    asn: r.asn,
    country: r.country,
    region: r.region,
    city: r.city,
    userAgent: r.user_agent,
    browser: r.browser,
    os: r.os,
    deviceType: r.device_type,
  };
  if (r.latitude !== null && r.longitude !== null) {
    login.latitude = Number(r.latitude);
    login.longitude = Number(r.longitude);
  }
  if (r.device_hash !== null) login.deviceId = r.device_hash;
  return login;
}

export function loginHistoryStore(db: Kysely<Database>): LoginHistoryStore {
  return {
    async append(login, limits) {
      await db.transaction().execute(async (tx) => {
        await tx
          .insertInto('login_history')
          .values({
            user_id: login.userId,
            at: login.at,
            ip: login.ip,
            asn: login.asn,
            country: login.country,
            region: login.region,
            city: login.city,
            latitude: login.latitude ?? null,
            longitude: login.longitude ?? null,
            user_agent: login.userAgent,
            browser: login.browser,
            os: login.os,
            device_type: login.deviceType,
            device_hash: login.deviceId ?? null,
          })
          .execute();
        // Only this user's rows are touched: the window and the cap, by the (user_id, at) index.
        await tx
          .deleteFrom('login_history')
          .where('user_id', '=', login.userId)
          .where('at', '<', login.at - limits.retentionMs)
          .execute();
        const overCap = await tx
          .selectFrom('login_history')
          .select('id')
          .where('user_id', '=', login.userId)
          .orderBy('at', 'desc')
          .orderBy('id', 'desc')
          .offset(limits.perUserCap)
          .limit(1000)
          .execute();
        if (overCap.length) {
          await tx
            .deleteFrom('login_history')
            .where(
              'id',
              'in',
              overCap.map((r) => r.id),
            )
            .execute();
        }
      });
    },
    async listSince(since, afterId, limit) {
      const rows = await db
        .selectFrom('login_history')
        .selectAll()
        .where('at', '>=', since)
        .where('id', '>', afterId)
        .orderBy('id')
        .limit(limit)
        .execute();
      return rows.map((r) => ({ id: num(r.id), login: toLogin(r) }));
    },
    async prune(before) {
      return changed(await db.deleteFrom('login_history').where('at', '<', before).executeTakeFirst());
    },
  };
}

function toDevice(r: Selectable<TrustedDevicesTable>): TrustedDevice {
  return {
    id: r.id,
    userId: r.user_id as UserId,
    deviceHash: r.device_hash,
    secretHash: r.secret_hash,
    label: r.label,
    ip: r.ip,
    location: r.location,
    createdAt: num(r.created_at),
    lastUsedAt: num(r.last_used_at),
    expiresAt: num(r.expires_at),
    revokedAt: r.revoked_at === null ? null : num(r.revoked_at),
  };
}

export function trustedDeviceStore(db: Kysely<Database>): TrustedDeviceStore {
  const live = (now: number) => db.selectFrom('trusted_devices').selectAll().where('revoked_at', 'is', null).where('expires_at', '>', now);
  return {
    async create(d) {
      await db
        .insertInto('trusted_devices')
        .values({
          id: d.id,
          user_id: d.userId,
          device_hash: d.deviceHash,
          secret_hash: d.secretHash,
          label: d.label,
          ip: d.ip,
          location: d.location,
          created_at: d.createdAt,
          last_used_at: d.lastUsedAt,
          expires_at: d.expiresAt,
          revoked_at: d.revokedAt,
        })
        .execute();
    },
    async findActive(userId, deviceHash, now) {
      const row = await live(now)
        .where('user_id', '=', userId)
        .where('device_hash', '=', deviceHash)
        .orderBy('created_at', 'desc')
        .executeTakeFirst();
      return row && toDevice(row);
    },
    async rotateSecret(deviceHash, oldSecretHash, newSecretHash, now) {
      const result = await db
        .updateTable('trusted_devices')
        .set({ secret_hash: newSecretHash, last_used_at: now })
        .where('device_hash', '=', deviceHash)
        .where('secret_hash', '=', oldSecretHash)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .executeTakeFirst();
      return changed(result);
    },
    async listActive(userId, now) {
      return (await live(now).where('user_id', '=', userId).orderBy('last_used_at', 'desc').execute()).map(toDevice);
    },
    async revoke(userId, id, now) {
      const result = await db
        .updateTable('trusted_devices')
        .set({ revoked_at: now })
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return changed(result) > 0;
    },
    async revokeAllForUser(userId, now) {
      const result = await db
        .updateTable('trusted_devices')
        .set({ revoked_at: now })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return changed(result);
    },
  };
}
