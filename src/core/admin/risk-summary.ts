/**
 * What the console shows of the risk engine's decisions, read from the audit trail's
 * `risk.decision` events (detail: { score, band, decision, reasons }). Nothing here scores: the
 * engine owns the score; this only counts what it decided.
 */
export const RISK_EVENT_TYPE = 'risk.decision';

export interface RiskDecision {
  at: number;
  userId: string | null;
  ip: string | null;
  score: number;
  band: string;
  decision: string;
  reasons: string[];
}

/** Null when the event carries no numeric score (not a risk decision, or a malformed one). */
export function riskDecisionOf(event: {
  type: string;
  at: number;
  userId: string | null;
  ip: string | null;
  detail: Record<string, unknown> | null;
}): RiskDecision | null {
  const d = event.detail;
  if (event.type !== RISK_EVENT_TYPE || !d || typeof d.score !== 'number' || !Number.isFinite(d.score)) return null;
  const reasons = Array.isArray(d.reasons) ? d.reasons.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))) : [];
  return {
    at: event.at,
    userId: event.userId,
    ip: event.ip,
    score: d.score,
    band: typeof d.band === 'string' ? d.band : 'unknown',
    decision: typeof d.decision === 'string' ? d.decision : 'unknown',
    reasons,
  };
}

export interface Histogram {
  /** Lower edge of each bin; the last bin includes its upper edge. */
  edges: number[];
  labels: string[];
  counts: number[];
}

/**
 * Ten equal bins: over 0–1 when every score fits in it (a probability), else over the whole units
 * around the scores seen (twofold's engine scores in log-odds, below zero for the usual).
 */
export function scoreHistogram(scores: number[], bins = 10): Histogram {
  const min = scores.reduce((m, s) => Math.min(m, s), 0);
  const max = scores.reduce((m, s) => Math.max(m, s), 0);
  const unit = min >= 0 && max <= 1;
  const low = unit ? 0 : Math.floor(min);
  const high = unit ? 1 : Math.max(Math.ceil(max), low + 1);
  const width = (high - low) / bins;
  const edges = Array.from({ length: bins }, (_, i) => low + i * width);
  const counts = edges.map(() => 0);
  for (const score of scores) {
    const index = Math.min(bins - 1, Math.max(0, Math.floor((score - low) / width)));
    counts[index]! += 1;
  }
  const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(Number.isInteger(width * 10) ? 1 : 2));
  return { edges, labels: edges.map((e) => `${fmt(e)} – ${fmt(e + width)}`), counts };
}

/** Occurrences per key, most frequent first. */
export function countBy<T>(items: T[], key: (item: T) => string | null | undefined, limit = 10): Array<{ key: string; count: number }> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const k = key(item);
    if (k) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts.entries()]
    .map(([k, count]) => ({ key: k, count }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key))
    .slice(0, limit);
}
