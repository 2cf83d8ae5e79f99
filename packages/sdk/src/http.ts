import { errorFromBody, isErrorBody, TwofoldUnavailableError } from './errors.js';

/** How the SDK reaches twofold; `fetch` is injectable for proxies and tests. */
export interface TransportOptions {
  /** twofold's public URL, e.g. `https://auth.example.com`. */
  baseUrl: string | URL;
  fetch?: typeof fetch;
  /** Per request; default 10 s. */
  timeoutMs?: number;
}

export interface ApiRequest {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  json?: unknown;
  headers?: Record<string, string>;
}

export interface ApiAnswer<T> {
  status: number;
  body: T;
}

export class Transport {
  readonly baseUrl: URL;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(options: TransportOptions) {
    this.baseUrl = new URL(options.baseUrl);
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  url(path: string): URL {
    return new URL(path, this.baseUrl);
  }

  /** The JSON answer of a 2xx; anything else becomes a typed TwofoldError (never the raw body). */
  async call<T>(request: ApiRequest): Promise<ApiAnswer<T>> {
    const url = this.url(request.path);
    for (const [name, value] of Object.entries(request.query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
    if (request.json !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method: request.method,
        headers,
        ...(request.json === undefined ? {} : { body: JSON.stringify(request.json) }),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      throw new TwofoldUnavailableError(
        'twofold_unavailable',
        `twofold did not answer ${request.method} ${request.path}.`,
        0,
        {},
        { cause },
      );
    }
    const text = await response.text().catch(() => '');
    let body: unknown = undefined;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
    }
    if (response.ok) {
      if (response.status !== 204 && body === undefined) throw notJson(request, response.status);
      return { status: response.status, body: body as T };
    }
    if (!isErrorBody(body)) throw notJson(request, response.status);
    const retryAfter = Number(response.headers.get('retry-after'));
    throw errorFromBody(response.status, body, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined);
  }
}

const notJson = (request: ApiRequest, status: number) =>
  new TwofoldUnavailableError(
    'twofold_unavailable',
    `twofold answered ${request.method} ${request.path} with ${status} and no JSON.`,
    status,
  );
