import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { LoginContext } from '../core/risk/context.js';

/**
 * The columns of the public RBA data set (Wiefling et al., ACM TOPS 2022), plus three optional
 * ones twofold's simulator adds: Device ID (the device cookie), Latitude and Longitude. The label
 * columns (Is Attack IP, Is Account Takeover) are never read.
 */
export const RBA_COLUMNS = [
  'index',
  'Login Timestamp',
  'User ID',
  'Round-Trip Time [ms]',
  'IP Address',
  'Country',
  'Region',
  'City',
  'ASN',
  'User Agent String',
  'Browser Name and Version',
  'OS Name and Version',
  'Device Type',
  'Login Successful',
  'Is Attack IP',
  'Is Account Takeover',
] as const;
export const EXTRA_COLUMNS = ['Device ID', 'Latitude', 'Longitude'] as const;

const REQUIRED = [
  'index',
  'Login Timestamp',
  'User ID',
  'IP Address',
  'Country',
  'ASN',
  'User Agent String',
  'Browser Name and Version',
  'OS Name and Version',
  'Device Type',
  'Login Successful',
] as const;

/** A line the reader cannot use, named by its 1-based line number in the file. */
export class RbaCsvError extends Error {
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
    this.name = 'RbaCsvError';
  }
}

export interface RbaRow {
  line: number;
  index: string;
  success: boolean;
  context: LoginContext;
}

/** Splits one CSV line (RFC 4180 quoting, "" for a quote). Null when a quote is left open. */
export function splitCsvLine(line: string): string[] | null {
  const fields: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    if (line.charCodeAt(i) === 34 /* " */) {
      let value = '';
      let start = ++i;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return null;
        if (line.charCodeAt(q + 1) === 34) {
          value += line.slice(start, q + 1);
          i = start = q + 2;
          continue;
        }
        value += line.slice(start, q);
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i >= n) return fields;
      if (line.charCodeAt(i) !== 44 /* , */) return null;
      i++;
    } else {
      const comma = line.indexOf(',', i);
      if (comma < 0) {
        fields.push(line.slice(i));
        return fields;
      }
      fields.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
}

/** "2020-02-03 12:43:30.772" (the data set's format, UTC) or ISO 8601; NaN when neither. */
export function parseTimestamp(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3})\d*)?Z?$/.exec(text);
  if (!m) return NaN;
  const ms = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
}

function parseBoolean(text: string): boolean | undefined {
  const t = text.toLowerCase();
  if (t === 'true' || t === '1') return true;
  if (t === 'false' || t === '0') return false;
  return undefined;
}

type ColumnIndex = Record<(typeof REQUIRED)[number] | 'Region' | 'City' | (typeof EXTRA_COLUMNS)[number], number>;

function columnIndex(header: string[]): ColumnIndex {
  const find = (name: string) => header.indexOf(name);
  const missing = REQUIRED.filter((name) => find(name) < 0);
  if (missing.length)
    throw new RbaCsvError(1, `header lacks column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `"${m}"`).join(', ')}`);
  const index = {} as ColumnIndex;
  for (const name of [...REQUIRED, 'Region', 'City', ...EXTRA_COLUMNS] as const) index[name] = find(name);
  return index;
}

/** Turns one data line into a row, or throws RbaCsvError naming the line. */
function toRow(fields: string[] | null, width: number, col: ColumnIndex, line: number): RbaRow {
  if (fields === null) throw new RbaCsvError(line, 'unbalanced quotes (a quoted field must close on the same line)');
  if (fields.length !== width) throw new RbaCsvError(line, `expected ${width} fields like the header, found ${fields.length}`);
  const get = (i: number) => (i < 0 ? '' : fields[i]!);
  const at = parseTimestamp(get(col['Login Timestamp']));
  if (Number.isNaN(at))
    throw new RbaCsvError(line, `"${get(col['Login Timestamp'])}" is not a timestamp (expected YYYY-MM-DD HH:MM:SS.mmm)`);
  const userId = get(col['User ID']);
  if (!userId) throw new RbaCsvError(line, 'empty User ID');
  const success = parseBoolean(get(col['Login Successful']));
  if (success === undefined) throw new RbaCsvError(line, `Login Successful is "${get(col['Login Successful'])}", expected True or False`);
  const context: LoginContext = {
    at,
    userId,
    ip: get(col['IP Address']),
    asn: get(col.ASN),
    country: get(col.Country),
    region: get(col.Region),
    city: get(col.City),
    userAgent: get(col['User Agent String']),
    browser: get(col['Browser Name and Version']),
    os: get(col['OS Name and Version']),
    deviceType: get(col['Device Type']),
  };
  const deviceId = get(col['Device ID']);
  if (deviceId) context.deviceId = deviceId;
  const latitude = get(col.Latitude);
  const longitude = get(col.Longitude);
  if (latitude && longitude) {
    const lat = Number(latitude);
    const lon = Number(longitude);
    if (!Number.isFinite(lat) || !Number.isFinite(lon))
      throw new RbaCsvError(line, `Latitude/Longitude "${latitude}", "${longitude}" are not numbers`);
    context.latitude = lat;
    context.longitude = lon;
  }
  return { line, index: get(col.index), success, context };
}

export interface ReadOptions {
  /** Called for each malformed line; without it the first one ends the read with RbaCsvError. */
  onMalformed?: (error: RbaCsvError) => void;
}

/** Streams rows from an RBA-schema CSV, one line in memory at a time. */
export async function* readRbaCsv(input: Readable, options: ReadOptions = {}): AsyncGenerator<RbaRow> {
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNumber = 0;
  let col: ColumnIndex | undefined;
  let width = 0;
  for await (const text of lines) {
    lineNumber++;
    if (col === undefined) {
      const header = splitCsvLine(text.replace(/^\uFEFF/, ''));
      if (!header) throw new RbaCsvError(1, 'unreadable header');
      col = columnIndex(header);
      width = header.length;
      continue;
    }
    if (text === '') continue;
    try {
      yield toRow(splitCsvLine(text), width, col, lineNumber);
    } catch (err) {
      if (!(err instanceof RbaCsvError) || !options.onMalformed) throw err;
      options.onMalformed(err);
    }
  }
  if (col === undefined) throw new RbaCsvError(1, 'empty file (no header)');
}

/** A CSV field, quoted when it must be. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Batches lines into large writes and waits when the destination is full. */
export class LineWriter {
  private buffer: string[] = [];
  private size = 0;
  constructor(private readonly out: Writable) {}

  async write(line: string): Promise<void> {
    if (this.push(line)) await this.flush();
  }

  /** Buffers a line; true when the buffer is full and should be flushed (hot loops avoid a promise per line). */
  push(line: string): boolean {
    this.buffer.push(line);
    this.size += line.length;
    return this.size >= 65_536;
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const chunk = this.buffer.join('\n') + '\n';
    this.buffer = [];
    this.size = 0;
    if (!this.out.write(chunk)) await once(this.out, 'drain');
  }
}
