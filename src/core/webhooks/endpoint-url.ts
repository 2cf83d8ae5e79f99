export type EndpointUrlCheck = { ok: true; url: string } | { ok: false; problem: string };

/**
 * An endpoint URL an administrator gives: absolute http(s) only (no file:, no javascript:), no
 * user:password part (it would show in every listing; put credentials in the path or query, or verify
 * the signature), no fragment (never sent anyway). Plain http is accepted, for receivers on a private
 * network; the signature still authenticates every message.
 */
export function checkEndpointUrl(text: string): EndpointUrlCheck {
  const trimmed = text.trim();
  if (trimmed.length > 2048) return { ok: false, problem: 'url: longer than 2048 characters' };
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return { ok: false, problem: 'url: not an absolute URL (expected https://host/path)' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, problem: 'url: only http and https URLs are accepted' };
  if (url.username || url.password) return { ok: false, problem: 'url: must not carry a user name or password' };
  if (url.hash) return { ok: false, problem: 'url: must not carry a #fragment' };
  if (!url.hostname) return { ok: false, problem: 'url: has no host' };
  return { ok: true, url: url.toString() };
}
