import type { EventFilterInput } from '../../../admin/admin-events.js';
import { AppError } from '../../../auth/errors.js';
import { parsePointInTime } from '../../../core/admin/time-filter.js';
import type { EventFilterQuery } from './admin-schemas.js';

/** The query string's filter to the use case's, refusing times it cannot read (400, not an empty answer). */
export function eventFilterOf(query: EventFilterQuery, now: number): EventFilterInput {
  const time = (name: 'since' | 'until'): number | undefined => {
    const text = query[name];
    if (text === undefined || text === '') return undefined;
    const ms = parsePointInTime(text, now);
    if (ms === null) throw new AppError('bad_request', `${name}: "${text}" is neither an ISO 8601 date nor a duration like 24h.`);
    return ms;
  };
  const types = query.type
    ?.split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  return {
    types: types?.length ? types : undefined,
    user: query.user?.trim() || undefined,
    ip: query.ip?.trim() || undefined,
    outcome: query.outcome,
    since: time('since'),
    until: time('until'),
  };
}
