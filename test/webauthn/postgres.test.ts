import { describeWithServices } from '../support/postgres.js';

/**
 * The passkey suites, unchanged, on PostgreSQL (bigint counters come back as strings there): the
 * harness gives each a fresh database (TWOFOLD_TEST_STORE=postgres; this file runs in its own process).
 */
process.env.TWOFOLD_TEST_STORE = 'postgres';

describeWithServices('passkeys on PostgreSQL', {}, async () => {
  await import('./ceremonies.test.js');
  await import('./api.test.js');
});
