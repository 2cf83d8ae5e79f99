import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendError, toErrorResponse } from '../errors.js';

/**
 * The built-in proxy's own answers, in the same {error:{code,message}} shape as the rest of twofold
 * (Fastify's defaults echoed the method and URL in another shape; an app that is down was a 500).
 * Answers that come from the app behind it are passed through untouched.
 */

/** The methods the proxy forwards (@fastify/http-proxy's set); any other is answered 405 here. */
export const PROXIED_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'];

/** @fastify/reply-from's errors when the app cannot be reached (refused, reset, timed out): a gateway's 502 or 504. */
const UPSTREAM_FAILURES = new Set(['ECONNRESET', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);
const upstreamFailed = (err: FastifyError) => err.code?.startsWith('FST_REPLY_FROM_') || UPSTREAM_FAILURES.has(err.code);

export function registerProxyErrors(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (upstreamFailed(err)) {
      request.log.warn({ err }, 'upstream unavailable');
      // RFC 9110 §15.6.3 and §15.6.5: no valid answer from the app, or none in time.
      return err.statusCode === 504
        ? sendError(reply, 504, 'gateway_timeout', 'The protected app did not answer in time.')
        : sendError(reply, 502, 'bad_gateway', 'The protected app could not be reached.');
    }
    const res = toErrorResponse(err);
    if (res.status >= 500) request.log.error({ err }, 'proxy error');
    return sendError(reply, res.status, res.code, res.message, res.detail);
  });
  // Every path is proxied, so a request no route takes has a method the proxy does not forward.
  app.setNotFoundHandler((_request, reply) => {
    reply.header('Allow', PROXIED_METHODS.join(', '));
    return sendError(reply, 405, 'method_not_allowed', 'The built-in proxy does not forward this method.', { allow: PROXIED_METHODS });
  });
}

/** Fastify's `frameworkErrors` for the proxy: URLs the router refuses before any route runs. */
export function proxyFrameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_BAD_URL') sendError(reply, 400, 'bad_request', 'The URL is not valid: it has broken percent-encoding.');
  else if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') sendError(reply, 414, 'bad_request', 'A part of the URL is too long.');
  else {
    request.log.error({ err }, 'router error');
    sendError(reply, 500, 'internal_error', 'Something went wrong on our side. It has been logged.');
  }
}
