/**
 * Where the portal may send a user back to after sign-in. Only http(s) URLs whose host is one of
 * the allowed domains (exact, or a sub-domain of a "*.example.com" entry) pass; everything that
 * browsers might read differently from the URL parser is refused before parsing: backslashes,
 * control characters and whitespace, encoded slashes/backslashes/dots-in-host, user-info, and
 * protocol-relative "//host" forms. Relative paths resolve against the portal itself.
 */
export interface ReturnToRules {
  /** "auth.example.com", "*.example.com", "app.example.com:8443" (host with optional port). */
  domains: string[];
  /** Plain http is allowed only in local development. */
  allowHttp: boolean;
  /** Base for relative paths: the portal's own URL. */
  portal: URL;
}

const SUSPICIOUS = /[\\\u0000-\u0020\u007f]|%(?:2f|5c|00|0a|0d|09)/i;

/** Longer return addresses are refused (and the gate does not offer them). */
export const MAX_RETURN_TO_LENGTH = 2048;

export function safeReturnTo(candidate: string | undefined, rules: ReturnToRules): URL | null {
  if (!candidate || candidate.length > MAX_RETURN_TO_LENGTH || SUSPICIOUS.test(candidate)) return null;
  let url: URL;
  if (candidate.startsWith('/')) {
    if (candidate.startsWith('//')) return null;
    url = new URL(candidate, rules.portal);
  } else {
    if (!/^https?:\/\/[^/]/i.test(candidate)) return null;
    try {
      url = new URL(candidate);
    } catch {
      return null;
    }
  }
  if (url.username || url.password) return null;
  if (url.protocol !== 'https:' && !(rules.allowHttp && url.protocol === 'http:')) return null;
  return hostAllowed(url, rules) ? url : null;
}

function hostAllowed(url: URL, rules: ReturnToRules): boolean {
  const hostname = url.hostname.toLowerCase();
  const host = url.host.toLowerCase();
  if (host === rules.portal.host.toLowerCase()) return true;
  return rules.domains.some((entry) => {
    const domain = entry.toLowerCase();
    if (domain.startsWith('*.')) {
      const suffix = domain.slice(1);
      return hostname.endsWith(suffix) && hostname.length > suffix.length;
    }
    return domain.includes(':') ? host === domain : hostname === domain;
  });
}
