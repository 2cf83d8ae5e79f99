import type { AuthDeps, RequestContext } from '../auth/deps.js';
import { AppError } from '../auth/errors.js';
import { completeSecondFactor, signInWithPassword } from '../auth/sign-in.js';
import { confirmTotpEnrollment, startTotpEnrollment } from '../auth/totp-enrollment.js';
import { addUser } from '../auth/users.js';
import type { ManualClock } from '../core/clock.js';
import { DEFAULT_TOTP_PARAMS, decodeBase32, generateTotp } from '../core/factors/totp.js';
import { normalizeUsername } from '../core/identity/username.js';
import type { User } from '../store/store.js';
import type { RbaRow } from './rba-csv.js';

/**
 * Feeds simulated sign-ins (`twofold risk simulate`) through the product's own sign-in use cases, so
 * an installation's admin console shows realistic data: each simulated user becomes an account that
 * enrolls TOTP at its first sign-in, each row is a real password step from the row's address and
 * browser at the row's time (shifted so the last row is "now"), and the risk engine, throttles,
 * audit trail and sessions see exactly what they would see from real users. Attack rows (from the
 * labels file) know the password but not the second factor.
 */

export interface SeedOptions {
  /** Accounts are named prefix + the simulated user id ("sim-u12"). */
  prefix: string;
  /** The seeded accounts' password (a demo installation's; every account gets the same one). */
  password: string;
  /** Row index → label ("legit", "attack", …) from the simulation's labels file; no attacks without it. */
  labels?: Map<string, string>;
}

export interface SeedSummary {
  rows: number;
  users: number;
  /** How each row ended: authenticated, enrolled, denied, second_factor_failed, wrong_password, or an error code. */
  outcomes: Record<string, number>;
  /** The simulated time span, shifted: first and last row, epoch ms. */
  from: number;
  until: number;
}

const WRONG_CODE = '000000';

/**
 * Runs `rows` (sorted by time, as simulate writes them) against `deps`, whose clock must be `clock`:
 * it is set to each row's shifted time before the row is played.
 */
export async function seedSignIns(deps: AuthDeps, clock: ManualClock, rows: RbaRow[], options: SeedOptions): Promise<SeedSummary> {
  const outcomes: Record<string, number> = {};
  const count = (outcome: string) => (outcomes[outcome] = (outcomes[outcome] ?? 0) + 1);
  const summary: SeedSummary = { rows: 0, users: 0, outcomes, from: 0, until: 0 };
  if (!rows.length) return summary;
  const shift = clock.now() - rows[rows.length - 1]!.context.at;
  summary.from = rows[0]!.context.at + shift;
  summary.until = rows[rows.length - 1]!.context.at + shift;
  const accounts = new Map<string, { user: User; totpSecret: Buffer | null }>();
  clock.set(summary.from);

  for (const row of rows) {
    // Never backwards: rows are sorted, but a clock that went back would confuse TOTP replay checks.
    clock.set(Math.max(clock.now(), row.context.at + shift));
    const username = normalizeUsername(`${options.prefix}${row.context.userId}`);
    if (!username) {
      count('invalid_username');
      continue;
    }
    summary.rows++;
    let account = accounts.get(username);
    if (!account) {
      const existing = await deps.store.users.findByUsername(username);
      const user = existing ?? (await addUser(deps, { username, password: options.password, isAdmin: false }, null));
      if (!existing) summary.users++;
      account = { user, totpSecret: null };
      accounts.set(username, account);
    }
    const ctx: RequestContext = { ip: row.context.ip, userAgent: row.context.userAgent };
    const attack = options.labels?.get(row.index)?.startsWith('attack') ?? false;
    count(await playRow(deps, clock, account, { password: options.password, right: row.success, attack }, ctx));
  }
  return summary;
}

async function playRow(
  deps: AuthDeps,
  clock: ManualClock,
  account: { user: User; totpSecret: Buffer | null },
  row: { password: string; right: boolean; attack: boolean },
  ctx: RequestContext,
): Promise<string> {
  const { attack } = row;
  const password = row.right ? row.password : `not ${row.password}`;
  try {
    const step = await signInWithPassword(deps, { username: account.user.username, password }, ctx);
    switch (step.state) {
      case 'authenticated':
        return 'authenticated';
      case 'enrollment_required': {
        if (attack) return 'enrollment_abandoned';
        const { session } = step.issued;
        const started = await startTotpEnrollment(deps, account.user, session, ctx);
        const secret = decodeBase32(started.secret);
        const code = generateTotp(secret, clock.now(), DEFAULT_TOTP_PARAMS);
        await confirmTotpEnrollment(deps, account.user, session, { code, endOtherSessions: false }, ctx);
        account.totpSecret = secret;
        return 'enrolled';
      }
      case 'second_factor_required': {
        if (!step.methods.includes('totp') || !account.totpSecret) return 'second_factor_abandoned';
        // An attacker has the password but not the authenticator.
        const code = attack ? WRONG_CODE : generateTotp(account.totpSecret, clock.now(), DEFAULT_TOTP_PARAMS);
        try {
          await completeSecondFactor(deps, { pendingToken: step.pendingToken, method: 'totp', code }, ctx);
          return 'authenticated';
        } catch (err) {
          if (err instanceof AppError) return err.code === 'invalid_code' ? 'second_factor_failed' : err.code;
          throw err;
        }
      }
    }
  } catch (err) {
    // A wrong password and a denied sign-in answer alike (no enumeration); the row says which it was.
    if (err instanceof AppError && err.code === 'invalid_credentials') return row.right ? 'denied' : 'wrong_password';
    if (err instanceof AppError) return err.code;
    throw err;
  }
}
