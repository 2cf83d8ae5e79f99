import { deviceHash } from '../context/device-cookie.js';
import { deviceFeatureKey } from '../core/risk/context.js';
import type { User } from '../store/store.js';
import type { AuthDeps, RequestContext } from './deps.js';

/**
 * The device cookie's hash when this browser has completed a sign-in to this account before (it is
 * in the user's risk history: retention_days, per_user_cap; every remembered device got there by
 * signing in), else undefined. Such a browser gets its own password budget (src/core/policy/throttle.ts),
 * so strangers failing on the account never make it wait. A cookie the request did not bring
 * (isNew) or one never seen with this account counts for nothing: its id is 128 random bits that
 * only that browser has, so it cannot be guessed to borrow the budget.
 */
export async function knownDeviceOf(deps: AuthDeps, user: User | undefined, ctx: RequestContext): Promise<string | undefined> {
  const device = ctx.device;
  if (!user || !device || device.isNew || !deps.risk) return undefined;
  await deps.risk.ready();
  const hash = deviceHash(device);
  return deps.risk.engine.history.user(user.id).stat(deviceFeatureKey(hash)) === undefined ? undefined : hash;
}
