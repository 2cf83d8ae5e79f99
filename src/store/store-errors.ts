/**
 * The store could not answer: the database is down, unreachable, refusing connections or too slow.
 * Callers must treat it as "cannot decide" and refuse (fail closed); HTTP maps it to 503
 * `store_unavailable`, never to a 500 and never to an "allow".
 */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super('the store is unavailable', { cause });
    this.name = 'StoreUnavailableError';
  }
}
