import pg from 'pg';
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import { StoreUnavailableError } from '../store-errors.js';

/**
 * SQLSTATE classes that mean "the server cannot answer now" rather than "this statement is wrong":
 * 08 connection exception, 53 insufficient resources, 57 operator intervention (admin shutdown,
 * statement timeout), 58 system error, 3D the database does not exist (dropped or not yet created).
 */
const UNAVAILABLE_CLASSES = new Set(['08', '53', '57', '58', '3D']);

/** True when an error from the driver means PostgreSQL is unreachable, not that a query was refused. */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof StoreUnavailableError) return true;
  // Anything but a server-reported error (socket closed, refused, timed out, protocol) is unavailability.
  if (!(err instanceof pg.DatabaseError)) return true;
  return UNAVAILABLE_CLASSES.has(String(err.code ?? '').slice(0, 2));
}

const unavailable = (err: unknown): unknown => (isUnavailable(err) ? new StoreUnavailableError(err) : err);

/**
 * The pool Kysely's PostgresDialect draws from, with every way of failing to reach PostgreSQL turned
 * into a StoreUnavailableError: connecting (refused, timed out, database closed to connections) and
 * running a query on a connection that died. A client that failed that way is destroyed on release,
 * so the pool reconnects by itself once the server is back. Constraint violations and other
 * statement errors pass through unchanged (a unique violation must still read as one).
 */
export function guardedPool(pool: pg.Pool): PostgresPool {
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    let broken = false;
    const wrapper: PostgresPoolClient = {
      query(...args: unknown[]) {
        const run = client.query as (...a: unknown[]) => unknown;
        // A cursor (streamed query) is returned as is; streams are not used by the store.
        if (typeof args[0] !== 'string') return run.apply(client, args);
        return (run.apply(client, args) as Promise<unknown>).catch((err: unknown) => {
          if (isUnavailable(err)) broken = true;
          throw unavailable(err);
        });
      },
      release() {
        client.release(broken);
        if (broken) wrappers.delete(client);
        broken = false;
      },
    } as PostgresPoolClient;
    return wrapper;
  };
  return {
    async connect() {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        // Whatever stops a connection (refused, timeout, "database does not allow connections") is unavailability.
        throw new StoreUnavailableError(err);
      }
      let wrapper = wrappers.get(client);
      if (!wrapper) wrappers.set(client, (wrapper = wrap(client)));
      return wrapper;
    },
    end: () => pool.end(),
  };
}
