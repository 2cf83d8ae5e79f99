import { performance } from 'node:perf_hooks';
import type { SignedHeaders } from '../core/webhooks/signature.js';

/** What one POST to a receiver came to. Success is any 2xx; a redirect is not followed and counts as a failure. */
export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  /** Why it failed, in a few words; never the URL (it may carry a token in its query). */
  error: string | null;
  durationMs: number;
}

const USER_AGENT = 'twofold-webhooks/1';

/** The cause of a failed fetch in a few words: "ECONNREFUSED", "timed out after 10000 ms". */
function describeFailure(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; cause?: { code?: string; name?: string } };
  if (e.name === 'TimeoutError' || e.cause?.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  if (e.cause?.code) return e.cause.code;
  return e.name && e.name !== 'TypeError' ? e.name : 'connection failed';
}

/** POSTs one signed message; resolves whatever the receiver does, within `timeoutMs`. */
export async function sendAttempt(url: string, headers: SignedHeaders, body: string, timeoutMs: number): Promise<AttemptResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'user-agent': USER_AGENT },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The answer's body is not needed; reading at most a little of it frees the connection.
    await response.body?.cancel().catch(() => undefined);
    const ok = response.status >= 200 && response.status < 300;
    return { ok, statusCode: response.status, error: ok ? null : `HTTP ${response.status}`, durationMs: elapsed() };
  } catch (err) {
    return { ok: false, statusCode: null, error: describeFailure(err, timeoutMs), durationMs: elapsed() };
  }
}
