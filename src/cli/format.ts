/** Plain-text output helpers shared by the command groups. */

/** Columns padded to their widest cell; the last column is not padded, so lines carry no trailing spaces. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** A timestamp in UTC to the second, the same whatever the machine's time zone: 2025-01-31T09:30:00Z. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export const yesNo = (value: boolean): string => (value ? 'yes' : 'no');

const UNITS: Array<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** The inverse of parseDuration for display: the largest unit that divides exactly, "30m", "12h", "90s", "250ms". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  for (const [unit, size] of UNITS) if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

/** JSON for scripts: two-space indent, one trailing newline. */
export const formatJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
