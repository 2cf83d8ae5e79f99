import { describeWithServices } from '../support/postgres.js';

/**
 * The HTTP suites, unchanged, on PostgreSQL: the harness gives each a fresh database
 * (TWOFOLD_TEST_STORE=postgres; this file runs in its own process, so nothing else is affected).
 */
process.env.TWOFOLD_TEST_STORE = 'postgres';

describeWithServices('on PostgreSQL', {}, async () => {
  // Importing a test module registers its describe blocks here, inside this one.
  await import('../http/full-flow.test.js');
  await import('../http/oathtool.test.js');
});
