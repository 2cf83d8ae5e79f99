import type { FastifyRequest } from 'fastify';

/** The user's original request, as the proxy in front of twofold describes it. */
export interface ForwardedRequest {
  url: URL;
  method: string;
}

const HOST = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$|^\[[0-9a-f:.]+\](?::\d{1,5})?$/i;
const METHOD = /^[A-Z]{1,16}$/;

const header = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return typeof value === 'string' ? value : undefined;
};

/**
 * Reads the original URL from X-Original-URL (nginx auth_request), or from X-Forwarded-Proto/
 * -Host/-Uri (Caddy forward_auth, Traefik forwardAuth). Anything missing or malformed gives null,
 * which the gate answers with 400: an unreadable request is never allowed.
 */
export function forwardedRequest(request: FastifyRequest): ForwardedRequest | null {
  const method = (header(request, 'x-original-method') ?? header(request, 'x-forwarded-method') ?? 'GET').toUpperCase();
  if (!METHOD.test(method)) return null;
  const original = header(request, 'x-original-url');
  let url: URL;
  if (original !== undefined) {
    if (original.length > 8192 || !/^https?:\/\//i.test(original)) return null;
    try {
      url = new URL(original);
    } catch {
      return null;
    }
    if (url.username || url.password) return null;
  } else {
    const proto = (header(request, 'x-forwarded-proto') ?? '').split(',')[0]!.trim().toLowerCase();
    const host = (header(request, 'x-forwarded-host') ?? '').split(',')[0]!.trim();
    const uri = header(request, 'x-forwarded-uri') ?? '/';
    if ((proto !== 'http' && proto !== 'https') || !HOST.test(host) || host.length > 260) return null;
    if (!uri.startsWith('/') || uri.startsWith('//') || uri.length > 8192 || /[\u0000-\u0020\\]/.test(uri)) return null;
    try {
      url = new URL(`${proto}://${host}${uri}`);
    } catch {
      return null;
    }
  }
  return { url, method };
}
