import type { TrustedDevice, User } from '../store/store.js';
import { recordEvent } from './audit.js';
import type { AuthDeps, RequestContext } from './deps.js';
import { AppError } from './errors.js';

/** The browsers this user asked to remember that still count (unexpired, unrevoked). */
export async function listTrustedDevices(deps: AuthDeps, user: User): Promise<TrustedDevice[]> {
  return deps.store.trustedDevices.listActive(user.id, deps.clock.now());
}

/** Forgets one remembered browser: its next sign-in is judged as any other. Someone else's id answers not_found. */
export async function revokeTrustedDevice(deps: AuthDeps, user: User, id: string, ctx: RequestContext): Promise<void> {
  if (!(await deps.store.trustedDevices.revoke(user.id, id, deps.clock.now())))
    throw new AppError('not_found', 'No such remembered device.');
  await recordEvent(deps, { type: 'device.revoked', outcome: 'success', userId: user.id, detail: { device: id } }, ctx);
}
