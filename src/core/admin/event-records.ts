/**
 * The audit trail's export formats: one JSON object per line (JSON Lines), or CSV (RFC 4180) with a
 * header row. Both carry the same fields.
 */
export interface ExportedEvent {
  id: number;
  at: string;
  type: string;
  outcome: 'success' | 'failure' | 'info';
  user_id: string | null;
  username: string | null;
  session_id: string | null;
  ip: string | null;
  user_agent: string | null;
  reason: string | null;
  detail: Record<string, unknown> | null;
}

export const CSV_COLUMNS: ReadonlyArray<keyof ExportedEvent> = [
  'id',
  'at',
  'type',
  'outcome',
  'user_id',
  'username',
  'session_id',
  'ip',
  'user_agent',
  'reason',
  'detail',
];

export type ExportFormat = 'jsonl' | 'csv';

/**
 * RFC 4180 quoting, plus OWASP's guard against formula injection: a cell a spreadsheet would run
 * (starting with = + - @, tab or carriage return) gets a leading apostrophe. User agents are chosen
 * by whoever sends the request, so this matters.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const csvHeader = (): string => `${CSV_COLUMNS.join(',')}\r\n`;

export const csvRow = (event: ExportedEvent): string => `${CSV_COLUMNS.map((c) => csvCell(event[c])).join(',')}\r\n`;

export const jsonLine = (event: ExportedEvent): string => `${JSON.stringify(event)}\n`;
