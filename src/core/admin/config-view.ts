/**
 * The effective configuration as an operator may see it: every setting, with secret values
 * replaced by a mark saying only whether one is set.
 */
export const MASK = '•••••• (set)';

const SECRET_KEY = /key|secret|token|password|pepper|credential/i;

export type ConfigValue = string | number | boolean | null | ConfigValue[] | { [key: string]: ConfigValue };

export function maskedConfig(value: unknown, key = ''): ConfigValue {
  if (value === undefined || value === null) return null;
  if (SECRET_KEY.test(key) && typeof value !== 'object' && typeof value !== 'boolean') return value === '' ? '' : MASK;
  if (value instanceof URL) return withoutUrlPassword(value.href);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => maskedConfig(item, key));
  if (typeof value === 'object') {
    // Anything with methods (compiled matchers, Buffers) is an implementation detail, not a setting.
    if (value instanceof Uint8Array) return SECRET_KEY.test(key) ? MASK : '(binary)';
    const out: Record<string, ConfigValue> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (typeof v === 'function') continue;
      out[k] = maskedConfig(v, k);
    }
    return out;
  }
  if (typeof value === 'string') return withoutUrlPassword(value);
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  return String(value);
}

/** A URL's password ("smtp://user:pass@host", "redis://:pass@host") is a secret whatever the key is called. */
function withoutUrlPassword(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:\s]*):[^/@\s]+@/i, `$1:${MASK}@`);
}

/** "idleTimeoutMs: 1800000" reads better as "30m". */
export function humanDuration(ms: number): string {
  if (ms % 86_400_000 === 0 && ms >= 86_400_000) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0 && ms >= 3_600_000) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
