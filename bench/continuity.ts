/**
 * tsx bench/continuity.ts [iterations] — what continuous evaluation adds to a session validation.
 *
 * Measured in one run on a real SQLite file through the real use cases:
 * - same_context_check_ns: checkContinuity() when the request's address and user agent are the
 *   session's (the common case), against an empty call in the same loop (no_check_ns, the reference);
 * - authenticate_us / authenticate_with_check_us: a cached cookie-session validation without and with
 *   the check, so the added cost is seen against the whole hot path;
 * - drift_low_us: the uncommon path (new address in the same country: geo lookups, UA parse, an
 *   event recorded once), for scale.
 * Prints one JSON object.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDeps } from '../src/app.js';
import { checkContinuity } from '../src/auth/session-continuity.js';
import { authenticate, issueSession } from '../src/auth/sessions.js';
import { addUser } from '../src/auth/users.js';
import { loadConfig } from '../src/config.js';

const iterations = Number(process.argv[2] ?? 2_000_000);
const dataDir = mkdtempSync(join(tmpdir(), 'twofold-bench-'));
const deps = await createDeps(loadConfig({ env: {}, cwd: dataDir, overrides: { data_dir: dataDir, log_level: 'silent' } }));
try {
  await deps.risk?.ready();
  const user = await addUser(deps, { username: 'bench', password: 'correct horse battery staple 42', isAdmin: false }, null);
  const now = deps.clock.now();
  const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.109 Safari/537.36';
  const ctx = { ip: '81.2.69.142', userAgent: UA };
  const amr = [
    { method: 'pwd' as const, at: now },
    { method: 'otp' as const, at: now },
  ];
  const issued = await issueSession(deps, user, 'full', amr, ctx);
  const { session } = issued;
  // A request's context as request-auth.ts builds it: fresh strings, equal in value, not the same objects.
  const requestCtx = { ip: ['81', '2', '69', '142'].join('.'), userAgent: UA.slice(0) + '' };
  const request = { ctx: requestCtx };
  const noop = (_a: unknown, _b: unknown, _c: unknown, _d: unknown): { kind: string } => ({ kind: 'continue' });

  const syncNs = (run: () => { kind: string }, n: number): number => {
    for (let i = 0; i < 100_000; i++) if (run().kind !== 'continue') throw new Error('not continue');
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) run();
    return Number(process.hrtime.bigint() - start) / n;
  };
  const asyncUs = async (run: () => unknown, n: number): Promise<number> => {
    for (let i = 0; i < 1000; i++) await run();
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await run();
    return Number(process.hrtime.bigint() - start) / n / 1000;
  };

  const checkNs: number[] = [];
  const noCheckNs: number[] = [];
  const authUs: number[] = [];
  const authCheckUs: number[] = [];
  const authN = Math.max(10_000, Math.floor(iterations / 50));
  // Alternate so a slow spell of the (shared) machine weighs on both.
  for (let round = 0; round < 3; round++) {
    noCheckNs.push(syncNs(() => noop(deps, session, user, request), iterations));
    checkNs.push(syncNs(() => checkContinuity(deps, session, user, request) as { kind: string }, iterations));
    authUs.push(await asyncUs(() => authenticate(deps, issued.token), authN));
    authCheckUs.push(
      await asyncUs(async () => {
        const auth = await authenticate(deps, issued.token);
        if (auth.kind === 'authenticated') {
          // As request-auth.ts and gate.ts call it: awaited only when it returns a promise (a drift).
          const checked = checkContinuity(deps, auth.session, auth.user, request);
          if (checked instanceof Promise) await checked;
        }
      }, authN),
    );
  }
  // The uncommon path: a new address in the same country (low band).
  const moved = { ctx: { ip: '81.2.69.160', userAgent: UA } };
  const driftUs = await asyncUs(() => Promise.resolve(checkContinuity(deps, session, user, moved)), 20_000);

  const best = (xs: number[]) => Math.min(...xs);
  const round2 = (x: number) => Number(x.toFixed(2));
  process.stdout.write(
    `${JSON.stringify({
      bench: 'continuity',
      iterations,
      no_check_ns: round2(best(noCheckNs)),
      same_context_check_ns: round2(best(checkNs)),
      added_ns: round2(best(checkNs) - best(noCheckNs)),
      authenticate_us: round2(best(authUs)),
      authenticate_with_check_us: round2(best(authCheckUs)),
      drift_low_us: round2(driftUs),
      rounds: {
        no_check_ns: noCheckNs.map(round2),
        same_context_check_ns: checkNs.map(round2),
        authenticate_us: authUs.map(round2),
        authenticate_with_check_us: authCheckUs.map(round2),
      },
    })}\n`,
  );
} finally {
  await deps.risk?.close();
  await deps.store.close();
  rmSync(dataDir, { recursive: true, force: true });
}
