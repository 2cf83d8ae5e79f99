import { REDIRECT_DOMAIN, type Config } from '../config.js';

/**
 * Pages may load only our own script, style and images; nobody may frame them. Forms post only to
 * us, but browsers also hold the redirect after a form post to form-action (Chromium does), so the
 * places a sign-in or step-up may return to (redirect_domains, the built-in proxy) are listed too:
 * without them the 303 back to app.example.com would be blocked. An entry without a port matches
 * any port, as return addresses do (core/access/return-to.ts).
 */
export function contentSecurityPolicy(config: Pick<Config, 'redirectDomains'>): string {
  // Entries the config check let through, and the proxy's host (an IPv6 literal cannot stand in a CSP).
  const returnHosts = [...new Set(config.redirectDomains.filter((entry) => REDIRECT_DOMAIN.test(entry)))].map((entry) =>
    entry.includes(':') ? entry : `${entry}:*`,
  );
  const formAction = ["'self'", ...returnHosts].join(' ');
  return `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action ${formAction}; frame-ancestors 'none'`;
}

/**
 * The headers on every answer, names already in lower case (Fastify lower-cases every name it is
 * given, allocating a copy otherwise). `same-origin` rather than `no-referrer`: no referrer leaves
 * the site either way, but under `no-referrer` Chromium sends `Origin: null` on form posts, which the
 * CSRF guard rightly refuses.
 */
export function securityHeaders(config: Pick<Config, 'publicUrl' | 'redirectDomains'>): ReadonlyArray<readonly [string, string]> {
  const headers: Array<[string, string]> = [
    ['cache-control', 'no-store'],
    ['x-content-type-options', 'nosniff'],
    ['referrer-policy', 'same-origin'],
    ['x-frame-options', 'DENY'],
    ['content-security-policy', contentSecurityPolicy(config)],
    ['cross-origin-opener-policy', 'same-origin'],
  ];
  if (config.publicUrl.protocol === 'https:') headers.push(['strict-transport-security', 'max-age=31536000; includeSubDomains']);
  return headers;
}
