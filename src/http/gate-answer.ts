import type { IncomingHttpHeaders } from 'node:http';
import { groupsOf, type Gate, type GateResult } from '../auth/gate.js';
import { stepUpMethodsOf } from '../auth/sensitive-actions.js';
import type { AuthDeps } from '../auth/deps.js';
import type { GateOutcome } from '../core/access/gate.js';
import { MAX_RETURN_TO_LENGTH } from '../core/access/return-to.js';
import type { Session } from '../core/session/session.js';
import type { User } from '../store/store.js';
import type { ErrorBody } from './errors.js';
import { forwardedRequest, type ForwardedRequest } from './forwarded-request.js';

/**
 * What the forward-auth endpoints answer, decided once for both ways a check arrives: the Fastify
 * route (forward-auth-routes.ts) and the direct node:http path that serves proxies
 * (gate-fast-path.ts). Both only write this down, so they cannot answer differently.
 */
export interface GateAnswer {
  status: 200 | 302 | 400 | 401 | 403;
  /** Header names in lower case. */
  headers: Readonly<Record<string, string>>;
  /** The JSON error of a 400, 401 or 403. */
  error?: ErrorBody;
}

/** /auth/request (nginx auth_request) or /auth/forward (Caddy, Traefik). */
export type GateMode = 'request' | 'forward';

/** The parts of a check the answer depends on; `ip` is the client's address as trusted_proxies resolve it. */
export interface GateQuestion {
  method: string;
  headers: IncomingHttpHeaders;
  ip: string;
  /** The session cookie or Bearer credential presented. */
  token: string | undefined;
}

/** Header values reach upstream apps: no control characters, bounded length. */
const headerValue = (value: string): string => value.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 1024);

/** Identity headers for the upstream app (it must only trust them from the proxy, which strips client copies). */
export function identityHeaders(user: User, session: Session): Record<string, string> {
  return {
    'Remote-User': user.username,
    'Remote-Email': headerValue(user.email ?? ''),
    'Remote-Name': headerValue(user.displayName),
    'Remote-Groups': groupsOf(user).join(','),
    'Remote-Session': session.id,
    'Remote-AAL': String(session.aal),
    'Remote-Auth-Time': String(Math.floor(session.authTime / 1000)),
  };
}

/**
 * identityHeaders() as the forward-auth answer sends them (names in lower case). What comes from the
 * user is worked out once per user object (a cached session's user is the same object from one check
 * to the next, and a changed user comes back as a new object); the three values of the session are
 * read on each answer, so a cached session holds no header object of its own.
 */
const userIdentity = new WeakMap<User, { user: string; email: string; name: string; groups: string }>();
function replyIdentityHeaders(user: User, session: Session): Readonly<Record<string, string>> {
  let known = userIdentity.get(user);
  if (known === undefined) {
    known = {
      user: user.username,
      email: headerValue(user.email ?? ''),
      name: headerValue(user.displayName),
      groups: groupsOf(user).join(','),
    };
    userIdentity.set(user, known);
  }
  return {
    'remote-user': known.user,
    'remote-email': known.email,
    'remote-name': known.name,
    'remote-groups': known.groups,
    'remote-session': session.id,
    'remote-aal': String(session.aal),
    'remote-auth-time': String(Math.floor(session.authTime / 1000)),
  };
}

/**
 * The identity headers, all empty: the answer when a request is allowed without a session (a bypass
 * rule). A proxy copying them then sets them empty: Caddy 2.6's copy_headers would otherwise write
 * its own placeholder text ("{http.reverse_proxy.header.Remote-User}") for a header that is missing.
 */
export const NO_IDENTITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'remote-user': '',
  'remote-email': '',
  'remote-name': '',
  'remote-groups': '',
  'remote-session': '',
  'remote-aal': '',
  'remote-auth-time': '',
});

/**
 * Where the portal sends a user who must sign in or step up, with the way back. A way back longer
 * than the portal accepts is left out: it would be refused anyway, and it keeps the Location and
 * X-Twofold-Location headers within what proxies buffer for a response head (nginx: 4 KB by default).
 */
export function portalUrlFor(portal: URL, page: '/login' | '/step-up', returnTo: string): string {
  const url = new URL(page, portal);
  if (returnTo.length <= MAX_RETURN_TO_LENGTH) url.searchParams.set('return_to', returnTo);
  return url.toString();
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});
const refusal = (
  status: 400 | 401 | 403,
  code: string,
  message: string,
  detail: Record<string, unknown> = {},
  headers = NO_HEADERS,
): GateAnswer => ({
  status,
  headers,
  error: { error: { code, message, ...detail } },
});

/**
 * /auth/request answers 200 / 401 / 403 only, since nginx turns 401 into the redirect itself;
 * /auth/forward answers 200, a 302 to the portal, or 403. Synchronous when the gate's check is (a
 * cached session: gate.ts), so the direct path answers a plain check without a promise; otherwise a
 * promise.
 */
export function answerGate(deps: AuthDeps, gate: Gate, mode: GateMode, question: GateQuestion): GateAnswer | Promise<GateAnswer> {
  const original = forwardedRequest(question, mode === 'request' ? 'original' : 'forwarded');
  if (!original) {
    const expected = mode === 'request' ? 'X-Original-URL' : 'X-Forwarded-Proto/Host/Uri';
    return refusal(
      400,
      'bad_forwarded_request',
      `The proxy sent no readable original URL (${expected}): an http(s) URL whose path is ASCII, without control characters, and unambiguous.`,
    );
  }
  const { url, method } = original;
  const result = gate.check(question.token, {
    host: url.hostname,
    path: url.pathname,
    method,
    ip: question.ip,
    userAgent: (question.headers['user-agent'] ?? '').slice(0, 512),
  });
  return result instanceof Promise
    ? result.then((checked) => answerTo(deps, mode, original, checked))
    : answerTo(deps, mode, original, result);
}

/** The answer to a check the gate has decided. */
function answerTo(deps: AuthDeps, mode: GateMode, { url, method }: ForwardedRequest, result: GateResult): GateAnswer | Promise<GateAnswer> {
  const outcome = result.outcome;
  switch (outcome.kind) {
    case 'allow':
      return {
        status: 200,
        headers: result.identity ? replyIdentityHeaders(result.identity.user, result.identity.session) : NO_IDENTITY_HEADERS,
      };
    case 'deny':
      return refusal(403, 'forbidden', 'Access to this resource is denied.');
    case 'sign_in':
    case 'step_up': {
      const page = outcome.kind === 'sign_in' ? '/login' : '/step-up';
      const location = portalUrlFor(deps.config.publicUrl, page, url.toString());
      if (mode === 'forward' && (method === 'GET' || method === 'HEAD')) return { status: 302, headers: { location } };
      const headers = { 'x-twofold-location': location };
      if (outcome.kind === 'sign_in') return refusal(401, 'unauthenticated', 'Sign in first.', { location }, headers);
      return stepUpRefusal(deps, outcome, result.identity?.user, location, headers);
    }
  }
}

/** A 401 asking for a fresh factor, with the methods the user can use (read from the store). */
async function stepUpRefusal(
  deps: AuthDeps,
  outcome: Extract<GateOutcome, { kind: 'step_up' }>,
  user: User | undefined,
  location: string,
  headers: Readonly<Record<string, string>>,
): Promise<GateAnswer> {
  const maxAge = outcome.maxAuthAgeMs === undefined ? null : Math.floor(outcome.maxAuthAgeMs / 1000);
  return refusal(
    401,
    'step_up_required',
    'A fresh second factor is required.',
    {
      location,
      max_auth_age: maxAge,
      // The same machine-readable shape as the API's step_up_required (auth/sensitive-actions.ts).
      step_up: {
        reason: outcome.reason === 'second_factor' ? 'aal' : outcome.reason === 'context_changed' ? 'context_changed' : 'stale',
        methods: user ? await stepUpMethodsOf(deps, user) : [],
        max_age_s: maxAge,
      },
    },
    headers,
  );
}
