import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../auth/errors.js';
import { RouteMethods } from './route-methods.js';
import { StoreUnavailableError } from '../store/store-errors.js';

/** The one table from refusal to HTTP status. */
const STATUS: Record<ErrorCode, number> = {
  bad_request: 400,
  invalid_credentials: 401,
  rate_limited: 429,
  invalid_code: 401,
  code_replayed: 401,
  pending_login_invalid: 401,
  too_many_attempts: 401,
  factor_locked: 403,
  method_not_available: 400,
  unauthenticated: 401,
  step_up_required: 401,
  // RFC 6749 §5.2: a refresh token that is unknown, used, revoked or expired.
  invalid_grant: 400,
  unsupported_grant_type: 400,
  enrollment_only: 403,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  username_taken: 409,
  password_rejected: 400,
  setup_link_invalid: 410,
  reset_link_invalid: 410,
  no_pending_enrollment: 409,
  csrf_failed: 403,
  unavailable: 503,
  passkey_invalid: 401,
  passkey_challenge_invalid: 401,
  passkey_unknown: 401,
  passkey_clone_suspected: 403,
  passkey_origin_mismatch: 400,
  passkey_unavailable: 409,
  phishing_resistant_required: 403,
};

export interface ErrorBody {
  error: { code: string; message: string; [detail: string]: unknown };
}

export function sendError(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
  detail: Record<string, unknown> = {},
): FastifyReply {
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send({ error: { code, message, ...detail } } satisfies ErrorBody);
}

/** Maps anything thrown to a clear JSON error: AppErrors by table, Fastify's own 4xx by code, the rest to a logged 500. */
export function toErrorResponse(err: unknown): {
  status: number;
  code: string;
  message: string;
  detail: Record<string, unknown>;
  retryAfter?: number;
} {
  // The database did not answer: nothing can be decided, so refuse (fail closed) and say why, without a 500.
  if (err instanceof StoreUnavailableError) {
    return {
      status: 503,
      code: 'store_unavailable',
      message: 'The session store is unavailable; try again shortly.',
      detail: {},
      retryAfter: 1,
    };
  }
  if (err instanceof AppError) {
    return {
      status: STATUS[err.code],
      code: err.code,
      message: err.message,
      detail: err.extra.detail ?? {},
      retryAfter: err.extra.retryAfterSeconds,
    };
  }
  const e = err as FastifyError;
  if (e.validation) return { status: 400, code: 'bad_request', message: `Invalid request: ${e.message}`, detail: {} };
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'payload_too_large', message: 'The request body is too large.', detail: {} };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, code: 'unsupported_media_type', message: 'Send the body as application/json.', detail: {} };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, code: 'bad_request', message: 'The body is not valid JSON.', detail: {} };
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, code: 'bad_request', message: e.message, detail: {} };
  }
  return { status: 500, code: 'internal_error', message: 'Something went wrong on our side. It has been logged.', detail: {} };
}

/** Where the API's words speak to programs, a page speaks to the person who sent the form. */
const PAGE_MESSAGES: Record<string, string> = {
  unsupported_media_type: 'This form arrived in a format twofold does not read. Go back, reload the page and send it again.',
  payload_too_large: 'What you sent is too large. Go back and try again with less.',
};

/** A request path as shown in a message: never more than 200 characters of it. */
const shownPath = (path: string): string => (path.length > 200 ? `${path.slice(0, 200)}…` : path);

export function registerErrorHandling(app: FastifyInstance, renderPageError: PageErrorRenderer): void {
  app.setErrorHandler((err, request, reply) => {
    const res = toErrorResponse(err);
    if (res.code === 'store_unavailable') request.log.warn({ cause: String((err as Error).cause) }, 'store unavailable');
    else if (res.status >= 500) request.log.error({ err }, 'unhandled error');
    if (res.retryAfter !== undefined) reply.header('Retry-After', String(res.retryAfter));
    if (!isApiRequest(request)) return renderPageError(request, reply, res.status, PAGE_MESSAGES[res.code] ?? res.message);
    return sendError(reply, res.status, res.code, res.message, res.detail);
  });
  const routes = RouteMethods.collect(app);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    const allowed = routes.allowed(path);
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      reply.header('Allow', allowed.join(', '));
      const message = `${shownPath(path)} does not answer ${request.method}; it answers ${allowed.join(', ')}.`;
      if (!isApiRequest(request)) return renderPageError(request, reply, 405, message);
      return sendError(reply, 405, 'method_not_allowed', message, { allow: allowed });
    }
    if (!isApiRequest(request)) return renderPageError(request, reply, 404, 'There is no page here.');
    return sendError(reply, 404, 'not_found', `No route ${request.method} ${shownPath(path)}.`);
  });
}

type PageErrorRenderer = (req: FastifyRequest, reply: FastifyReply, status: number, message: string) => FastifyReply;

/** What the router says about a URL it cannot route, in words that do not echo the URL. */
const ROUTER_REFUSALS: Record<string, { status: number; message: string }> = {
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, message: 'A part of the URL is too long.' },
  FST_ERR_BAD_URL: { status: 400, message: 'The URL is not valid: it has broken percent-encoding.' },
};

/**
 * Fastify's `frameworkErrors`: URLs the router refuses before any route is found. Those answers skip
 * setErrorHandler and the onSend hook, so the security headers are set here too.
 */
export function frameworkErrorHandler(headers: ReadonlyArray<readonly [string, string]>, renderPageError: PageErrorRenderer) {
  return function onFrameworkError(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
    for (const [name, value] of headers) reply.header(name, value);
    const refusal = err.code ? ROUTER_REFUSALS[err.code] : undefined;
    if (!refusal) {
      request.log.error({ err }, 'router error');
      sendError(reply, 500, 'internal_error', 'Something went wrong on our side. It has been logged.');
      return;
    }
    if (isApiRequest(request)) sendError(reply, refusal.status, 'bad_request', refusal.message);
    else renderPageError(request, reply, refusal.status, refusal.message);
  };
}

const isApiRequest = (request: FastifyRequest): boolean =>
  !request.url.startsWith('/') ||
  /^\/(api|auth|healthz|readyz|openapi)/.test(request.url) ||
  (request.method !== 'GET' && request.headers['content-type']?.includes('json') === true);
