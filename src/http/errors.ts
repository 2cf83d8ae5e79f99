import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../auth/errors.js';

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
  enrollment_only: 403,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  username_taken: 409,
  password_rejected: 400,
  setup_link_invalid: 410,
  no_pending_enrollment: 409,
  csrf_failed: 403,
  unavailable: 503,
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

export function registerErrorHandling(
  app: FastifyInstance,
  renderPageError: (req: FastifyRequest, reply: FastifyReply, status: number, message: string) => FastifyReply,
): void {
  app.setErrorHandler((err, request, reply) => {
    const res = toErrorResponse(err);
    if (res.status >= 500) request.log.error({ err }, 'unhandled error');
    if (res.retryAfter !== undefined) reply.header('Retry-After', String(res.retryAfter));
    if (!isApiRequest(request)) return renderPageError(request, reply, res.status, res.message);
    return sendError(reply, res.status, res.code, res.message, res.detail);
  });
  app.setNotFoundHandler((request, reply) => {
    if (!isApiRequest(request)) return renderPageError(request, reply, 404, 'There is no page here.');
    return sendError(reply, 404, 'not_found', `No route ${request.method} ${request.url.split('?')[0]}.`);
  });
}

const isApiRequest = (request: FastifyRequest): boolean =>
  !request.url.startsWith('/') ||
  /^\/(api|auth|healthz|readyz|openapi)/.test(request.url) ||
  (request.method !== 'GET' && request.headers['content-type']?.includes('json') === true);
