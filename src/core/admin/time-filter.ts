import { parseDuration } from '../duration.js';

/**
 * A point in time as an operator writes it in a filter or on the command line: an ISO 8601 date
 * or date-time ("2026-11-20", "2026-11-20T08:00:00Z"), or a duration meaning that long ago
 * ("24h", "7d"). Null when it is neither.
 */
export function parsePointInTime(text: string, now: number): number | null {
  const trimmed = text.trim();
  if (!trimmed) return null;
  const ago = parseDuration(trimmed);
  if (ago !== null && /[a-z]$/i.test(trimmed)) return now - ago;
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(trimmed)) return null;
  // A date or a date-time without a zone is read as UTC: the console shows every time in UTC.
  const iso = /^\d{4}-\d{2}-\d{2}$/.test(trimmed)
    ? `${trimmed}T00:00:00Z`
    : /(Z|[+-]\d{2}:?\d{2})$/.test(trimmed)
      ? trimmed
      : `${trimmed}Z`;
  const ms = Date.parse(iso.replace(' ', 'T'));
  return Number.isNaN(ms) ? null : ms;
}
