import type { UserId } from '../../core/ids.js';
import type { AuthDeps } from '../deps.js';

const PAGE = 100;
/** At most this many of the user's newest events are read; a clone report older than them no longer counts. */
const MAX_PAGES = 20;

/**
 * Whether a passkey of this user was suspected cloned (event webauthn.clone_suspected, a signature
 * counter that went backwards) within webauthn.clone_risk_for. Read from the audit log, so every
 * node sees it and a restart forgets nothing; the risk engine then judges the user's sign-ins at
 * least high (src/core/risk/policy.ts, DecisionOptions.cloneSuspected).
 */
export async function cloneSuspectedRecently(deps: AuthDeps, userId: UserId): Promise<boolean> {
  const since = deps.clock.now() - deps.config.webauthn.cloneRiskMs;
  let beforeId: number | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const events = await deps.store.events.list({ userId, limit: PAGE, ...(beforeId === undefined ? {} : { beforeId }) });
    for (const event of events) {
      if (event.at < since) return false;
      if (event.type === 'webauthn.clone_suspected') return true;
    }
    if (events.length < PAGE) return false;
    beforeId = events[events.length - 1]!.id;
    if (beforeId === undefined) return false;
  }
  return false;
}
