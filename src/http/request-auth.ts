import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthDeps, RequestContext } from '../auth/deps.js';
import { AppError } from '../auth/errors.js';
import { authenticateCredential } from '../auth/credentials.js';
import { checkContinuity, continuityRefusal } from '../auth/session-continuity.js';
import { deviceCookieName, deviceHash, parseDeviceCookie } from '../context/device-cookie.js';
import type { Session } from '../core/session/session.js';
import type { User } from '../store/store.js';
import type { Cookies } from './cookies.js';

export interface Authenticated {
  session: Session;
  user: User;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth?: Authenticated;
  }
}

export const requestContext = (request: FastifyRequest): RequestContext => ({
  ip: request.ip,
  userAgent: (request.headers['user-agent'] ?? '').slice(0, 512),
  ...(request.device ? { device: request.device } : {}),
});

/** The session secret or access token from `Authorization: Bearer` first, else the session cookie. */
export function presentedToken(request: FastifyRequest, cookies: Cookies): string | undefined {
  return bearerToken(request) ?? cookies.sessionToken(request);
}

/** The credential of an `Authorization: Bearer` header, if there is one. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
}

export interface SessionRequirement {
  /** Restricted sessions (password only, second factor still to enroll) are accepted. */
  allowEnrollment?: boolean;
  admin?: boolean;
  /** The request is a step-up: a medium context change (which asks for one) must not block it. */
  allowStepUp?: boolean;
}

/** The device cookie's hash on this request, or null without one (continuous evaluation). */
export const requestDeviceHash = (deps: AuthDeps, request: FastifyRequest): string | null => {
  const device = request.device ?? parseDeviceCookie(request.cookies[deviceCookieName(deps.config.insecureCookies)]);
  return device ? deviceHash(device) : null;
};

/** A preHandler that lets the request through only with a live session meeting the requirement. */
export function requireSession(deps: AuthDeps, cookies: Cookies, requirement: SessionRequirement = {}) {
  return async function sessionGate(request: FastifyRequest, _reply: FastifyReply): Promise<void> {
    const bearer = bearerToken(request);
    const result = await authenticateCredential(deps, bearer ?? cookies.sessionToken(request));
    if (result.kind !== 'authenticated') {
      throw new AppError('unauthenticated', 'Sign in first: no valid session.', { detail: { reason: result.reason } });
    }
    // Continuous evaluation: the same address and browser as the session's cost two comparisons.
    // The device cookie is compared only for a session presented as a cookie (where it arrives too).
    const checked = checkContinuity(
      deps,
      result.session,
      result.user,
      {
        ctx: requestContext(request),
        ...(bearer === undefined && result.session.deviceHash !== undefined ? { deviceHash: () => requestDeviceHash(deps, request) } : {}),
      },
      { allowStepUp: requirement.allowStepUp },
    );
    // Synchronous in the common case: no await, so not even a microtask is added.
    const drift = checked instanceof Promise ? await checked : checked;
    if (drift.kind !== 'continue') throw await continuityRefusal(deps, result.user, drift);
    if (result.session.kind === 'enrollment' && !requirement.allowEnrollment) {
      throw new AppError('enrollment_only', 'Finish setting up your second factor first.', { detail: { next: '/api/v1/factors/totp' } });
    }
    if (requirement.admin && !result.user.isAdmin) throw new AppError('forbidden', 'Administrators only.');
    request.auth = { session: result.session, user: result.user };
  };
}

/** The authenticated identity inside a handler behind requireSession. */
export function authOf(request: FastifyRequest): Authenticated {
  if (!request.auth) throw new AppError('unauthenticated', 'Sign in first: no valid session.');
  return request.auth;
}
