import { describeWithServices } from '../support/postgres.js';

/**
 * The refresh-token suite, unchanged, on PostgreSQL: there two concurrent refreshes really run on
 * two connections at once, and the conditional UPDATE is what lets exactly one of them win. The
 * harness gives each test a fresh database (TWOFOLD_TEST_STORE=postgres; this file runs in its own process).
 */
process.env.TWOFOLD_TEST_STORE = 'postgres';

describeWithServices('refresh tokens on PostgreSQL', {}, async () => {
  await import('./refresh.test.js');
});
