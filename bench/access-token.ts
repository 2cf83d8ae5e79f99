/**
 * What an access token costs twofold's own validation, against the session-cookie path measured in
 * the same run (the reference): both cached, both through the real use cases on a real SQLite file.
 * Prints one JSON line. Run: npx tsx bench/access-token.ts [iterations]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDeps } from '../src/app.js';
import { authenticateAccessToken, issueAccessToken } from '../src/auth/access-tokens.js';
import { authenticate, issueSession } from '../src/auth/sessions.js';
import { addUser } from '../src/auth/users.js';
import { loadConfig } from '../src/config.js';

const iterations = Number(process.argv[2] ?? 20_000);
const dataDir = mkdtempSync(join(tmpdir(), 'twofold-bench-'));
const deps = await createDeps(loadConfig({ env: {}, cwd: dataDir, overrides: { data_dir: dataDir, log_level: 'silent' } }));
try {
  const user = await addUser(deps, { username: 'bench', password: 'correct horse battery staple 42', isAdmin: false }, null);
  const now = deps.clock.now();
  const ctx = { ip: '127.0.0.1', userAgent: 'bench' };
  const amr = [
    { method: 'pwd' as const, at: now },
    { method: 'otp' as const, at: now },
  ];
  const cookie = await issueSession(deps, user, 'full', amr, ctx);
  const tokenSession = await issueSession(deps, user, 'full', amr, ctx, 'tokens');
  const { accessToken } = await issueAccessToken(deps, tokenSession.session);

  async function perOp(run: () => { kind: string } | Promise<{ kind: string }>): Promise<number> {
    for (let i = 0; i < 1000; i++) if ((await run()).kind !== 'authenticated') throw new Error('not authenticated');
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await run();
    return Number(process.hrtime.bigint() - start) / iterations / 1000;
  }
  // Alternate so a slow spell of the machine weighs on both.
  const cookieUs: number[] = [];
  const accessUs: number[] = [];
  for (let round = 0; round < 3; round++) {
    cookieUs.push(await perOp(() => authenticate(deps, cookie.token)));
    accessUs.push(await perOp(() => authenticateAccessToken(deps, accessToken)));
  }
  // A token's first use pays the Ed25519 signature check (jose); later uses find it verified.
  const fresh = await Promise.all(
    Array.from({ length: 2000 }, async () => (await issueAccessToken(deps, tokenSession.session)).accessToken),
  );
  const firstStart = process.hrtime.bigint();
  for (const token of fresh)
    if ((await authenticateAccessToken(deps, token)).kind !== 'authenticated') throw new Error('not authenticated');
  const firstUseUs = Number(process.hrtime.bigint() - firstStart) / fresh.length / 1000;
  const best = (xs: number[]) => Math.min(...xs);
  process.stdout.write(
    `${JSON.stringify({
      bench: 'access-token-validation',
      iterations,
      reference_session_token_us: Number(best(cookieUs).toFixed(2)),
      access_token_us: Number(best(accessUs).toFixed(2)),
      access_token_first_use_us: Number(firstUseUs.toFixed(2)),
      ratio: Number((best(accessUs) / best(cookieUs)).toFixed(1)),
      rounds: { session_token_us: cookieUs.map((x) => Number(x.toFixed(2))), access_token_us: accessUs.map((x) => Number(x.toFixed(2))) },
    })}\n`,
  );
} finally {
  await deps.store.close();
  rmSync(dataDir, { recursive: true, force: true });
}
