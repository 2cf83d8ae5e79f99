import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorBody } from './errors.js';

/**
 * What Node's HTTP parser refuses before Fastify sees a request (a head over max_header_size, a
 * malformed request line, a control character in a header, a body that never arrives), answered in
 * the API's error shape. Those requests skip routes, hooks and the error handler, so this is the
 * only place that can answer them.
 */
const REFUSALS: Record<string, { status: number; code: string; message: string }> = {
  HPE_HEADER_OVERFLOW: { status: 431, code: 'headers_too_large', message: 'The request headers are too large.' },
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, code: 'request_timeout', message: 'The request did not arrive in time.' },
};
const MALFORMED = { status: 400, code: 'bad_request', message: 'The request is not valid HTTP/1.1.' };

/** How long a refused client may take to read the answer before its connection is dropped. */
const LINGER_MS = 2_000;

/** The bytes of the answer: a small JSON error that closes the connection (the parser cannot resume). */
export function clientErrorResponse(errorCode: string | undefined, headers: ReadonlyArray<readonly [string, string]>): string {
  const refusal = (errorCode && REFUSALS[errorCode]) || MALFORMED;
  const body = JSON.stringify({ error: { code: refusal.code, message: refusal.message } } satisfies ErrorBody);
  const head = [
    `HTTP/1.1 ${refusal.status} ${STATUS_CODES[refusal.status]}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    ...headers.map(([name, value]) => `${name}: ${value}`),
  ];
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}

/** A socket as Node's HTTP server leaves it: the response in flight on it, if any. */
type ServerSocket = Socket & { _httpMessage?: { headersSent?: boolean } | null };

/**
 * Fastify's `clientErrorHandler`. As Node's own handler does, nothing is written when a response
 * has already started on this connection (the client would read it as the end of that one). The
 * answer is followed by a FIN rather than a reset, so a client still sending its oversized head
 * still reads the status; a client that never closes is dropped after LINGER_MS.
 */
export function clientErrorHandler(headers: ReadonlyArray<readonly [string, string]>) {
  return function onClientError(err: Error & { code?: string }, socket: Socket): void {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const inFlight = (socket as ServerSocket)._httpMessage;
    if (!socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    socket.end(clientErrorResponse(err.code, headers));
    const linger = setTimeout(() => socket.destroy(), LINGER_MS);
    linger.unref();
    socket.once('close', () => clearTimeout(linger));
  };
}
