import type { Config } from '../config.js';
import { withBatchedTouches } from './batched-touches.js';
import { openSqliteStore } from './sqlite/open.js';
import type { ExternalChanges, Store } from './store.js';

export interface OpenedStore {
  store: Store;
  /**
   * What other processes changed (SQLite: sqlite/cache-invalidations.ts), so caches can drop it.
   * Undefined for a shared server database, where other nodes' writes cannot be seen this way.
   */
  externalChanges?: () => ExternalChanges;
}

/** Opens the configured store: the SQLite file (default) or PostgreSQL, migrating it when migrate_on_start. */
export async function openStore(config: Config, log: { warn: (obj: object, msg: string) => void }): Promise<OpenedStore> {
  if (config.store.kind === 'postgres') {
    // Loaded only when configured: the SQLite default never pays for the PostgreSQL driver's memory.
    const [{ openPostgresStore }, { postgresTouchBatches }] = await Promise.all([
      import('./postgres/open.js'),
      import('./postgres/touch-batches.js'),
    ]);
    const { store, db } = await openPostgresStore(config.store.url, {
      migrate: config.migrateOnStart,
      onIdleError: (err) => log.warn({ error: err.message }, 'PostgreSQL dropped an idle connection; the pool reconnects on demand'),
    });
    // Sliding-expiry writes gathered per 100 ms (src/store/batched-touches.ts).
    const batched = withBatchedTouches(store, postgresTouchBatches(db), {
      onError: (err, dropped) =>
        log.warn({ error: err.message, dropped }, 'session activity not written to PostgreSQL; the next touch writes it'),
    });
    return { store: batched };
  }
  const sqlite = await openSqliteStore(config.sqlitePath, {
    migrate: config.migrateOnStart,
    synchronous: config.sqliteSynchronous,
    onTouchError: (err, dropped) =>
      log.warn({ error: err.message, dropped }, 'session activity not written to SQLite; the next touch writes it'),
  });
  return { store: sqlite.store, externalChanges: sqlite.externalChanges };
}
