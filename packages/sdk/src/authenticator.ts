import { createRemoteJWKSet, customFetch, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { TwofoldClient } from './client.js';
import { presentedCredential, type IncomingRequest, type Presented } from './credentials.js';
import {
  StepUpRequiredError,
  TwofoldError,
  TwofoldUnavailableError,
  UnauthenticatedError,
  type ErrorBody,
  type StepUpChallenge,
} from './errors.js';
import { hasIdentityClaims, identityFromClaims, identityFromSession, type TwofoldIdentity } from './identity.js';
import { judgeStepUpOffline, type StepUpOptions } from './step-up.js';

/** RFC 9068 §2.1: the header type of twofold's access tokens. */
const ACCESS_TOKEN_TYPE = 'at+jwt';
const STEP_UP_PATH = '/api/v1/session/step-up';
/** Shorter than jose's 30 s: a rotated key is seen within 5 s, and a flood of unknown kids costs one fetch per 5 s. */
const DEFAULT_JWKS_COOLDOWN_MS = 5_000;

export interface AuthenticatorOptions {
  /** twofold's public URL, e.g. `https://auth.example.com`. */
  baseUrl: string | URL;
  /**
   * `offline`: verify the bearer access token with twofold's JWKS (no call to twofold per request);
   * a revoked session's tokens still pass until they expire, at most `tokens.access_ttl` (10 min by
   * default). `online`: ask twofold (`GET /api/v1/session`) on every request, with the bearer or
   * twofold's session cookie; revocation applies at once.
   */
  mode: 'offline' | 'online';
  /** Offline: expected `iss`; default the origin of baseUrl (twofold's default `tokens.issuer`). */
  issuer?: string;
  /** Offline: expected `aud` when twofold's `tokens.audience` is set. */
  audience?: string | string[];
  /** Offline: seconds of clock skew tolerated on exp/iat; default 0. */
  clockTolerance?: number;
  /** Offline: how long fetched keys are trusted without asking again (ms, jose default 10 min). */
  jwksCacheMaxAge?: number;
  /**
   * Offline: after a fetch, how long a token with an unknown `kid` is refused before the JWKS is
   * fetched again (ms; default 5 s). Right after `twofold keys rotate`, tokens of the new key can be
   * refused for up to this long; it also bounds how often forged kids can make the SDK fetch.
   */
  jwksCooldown?: number;
  /** Online: twofold's cookies (session, device) are forwarded from the request; default true. Offline never reads cookies. */
  cookies?: boolean;
  fetch?: typeof fetch;
  /** Per call to twofold; default 10 s. */
  timeoutMs?: number;
  /** The clock for expiry and step-up ages, in ms; default Date.now. */
  now?: () => number;
}

/** The middleware's refusal: a status, twofold's JSON error shape, and RFC 6750 / RFC 9470 WWW-Authenticate. */
export interface Refusal {
  status: 401 | 403 | 503;
  body: ErrorBody;
  wwwAuthenticate?: string;
}

export type Authentication = { kind: 'authenticated'; identity: TwofoldIdentity } | { kind: 'refused'; refusal: Refusal };

const unauthenticated = (reason: string, message: string, presented: boolean): Refusal => ({
  status: 401,
  body: { error: { code: 'unauthenticated', message, reason } },
  // RFC 6750 §3.1: invalid_token when a token was presented and is no good.
  wwwAuthenticate: presented ? 'Bearer error="invalid_token"' : 'Bearer',
});

const unavailable = (): Refusal => ({
  status: 503,
  body: { error: { code: 'twofold_unavailable', message: 'Sessions cannot be checked right now; try again shortly.' } },
});

/**
 * Checks the credential of a request, offline (JWT + JWKS) or online (twofold), and answers who it
 * is or why not. The Express and Fastify middleware are thin adapters around this.
 */
export class TwofoldAuthenticator {
  readonly mode: 'offline' | 'online';
  private readonly client: TwofoldClient;
  private readonly stepUpEndpoint: string;
  private readonly jwks: JWTVerifyGetKey | undefined;
  private readonly now: () => number;

  constructor(private readonly options: AuthenticatorOptions) {
    this.mode = options.mode;
    this.now = options.now ?? Date.now;
    const baseUrl = new URL(options.baseUrl);
    this.client = new TwofoldClient({
      baseUrl,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    });
    this.stepUpEndpoint = new URL(STEP_UP_PATH, baseUrl).toString();
    if (options.mode === 'offline') {
      // jose fetches the JWKS once, caches it, and fetches again when a token names an unknown kid
      // (twofold rotated its key), at most once per cooldown.
      this.jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', baseUrl), {
        ...(options.jwksCacheMaxAge === undefined ? {} : { cacheMaxAge: options.jwksCacheMaxAge }),
        cooldownDuration: options.jwksCooldown ?? DEFAULT_JWKS_COOLDOWN_MS,
        ...(options.timeoutMs === undefined ? {} : { timeoutDuration: options.timeoutMs }),
        ...(options.fetch ? { [customFetch]: options.fetch } : {}),
      });
    }
  }

  async authenticate(request: IncomingRequest): Promise<Authentication> {
    const presented = presentedCredential(request, this.mode === 'online' && this.options.cookies !== false);
    if (presented.kind === 'none') return refused(unauthenticated('missing', 'Sign in first: no access token.', false));
    if (presented.kind === 'malformed') return refused(unauthenticated('malformed', 'The credential is malformed.', true));
    return this.mode === 'offline' ? this.verifyOffline(presented) : this.askTwofold(presented, request, {});
  }

  /** Null when the identity meets the requirement, else the 401 step_up_required to answer. */
  async checkStepUp(identity: TwofoldIdentity, requirement: StepUpOptions, request: IncomingRequest): Promise<Refusal | null> {
    if (identity.verifiedBy === 'offline') {
      const challenge = judgeStepUpOffline(identity, requirement, this.now());
      return challenge ? this.stepUpRefusal({ ...challenge, endpoint: this.stepUpEndpoint }, 'A fresher second factor is required.') : null;
    }
    // Online, twofold's own step-up policy decides, with each factor's time and the user's methods.
    const presented = presentedCredential(request, this.options.cookies !== false);
    if (presented.kind !== 'bearer' && presented.kind !== 'cookie') {
      return unauthenticated('missing', 'Sign in first: no access token.', false);
    }
    const again = await this.askTwofold(presented, request, requirement);
    return again.kind === 'refused' ? again.refusal : null;
  }

  private async verifyOffline(presented: Exclude<Presented, { kind: 'none' | 'malformed' }>): Promise<Authentication> {
    if (presented.kind !== 'bearer' || !presented.jwt) {
      return refused(unauthenticated('malformed', 'Send an access token (a JWT) as Authorization: Bearer.', true));
    }
    try {
      const { payload } = await jwtVerify(presented.token, this.jwks!, {
        algorithms: ['EdDSA'],
        typ: ACCESS_TOKEN_TYPE,
        issuer: this.options.issuer ?? new URL(this.options.baseUrl).origin,
        ...(this.options.audience === undefined ? {} : { audience: this.options.audience }),
        ...(this.options.clockTolerance === undefined ? {} : { clockTolerance: this.options.clockTolerance }),
        currentDate: new Date(this.now()),
        requiredClaims: ['sub', 'sid', 'exp', 'iat', 'jti'],
      });
      if (!hasIdentityClaims(payload)) return refused(unauthenticated('invalid_token', 'The access token lacks twofold claims.', true));
      return { kind: 'authenticated', identity: identityFromClaims(payload) };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) return refused(unauthenticated('expired', 'The access token has expired.', true));
      if (keysUnreachable(err)) return refused(unavailable());
      return refused(unauthenticated('invalid_token', 'The access token is not valid.', true));
    }
  }

  private async askTwofold(
    presented: Exclude<Presented, { kind: 'none' | 'malformed' }>,
    request: IncomingRequest,
    requirement: StepUpOptions,
  ): Promise<Authentication> {
    try {
      const session = await this.client.validateFor(
        presented.kind === 'bearer' ? { bearer: presented.token } : { cookie: presented.cookieHeader },
        clientContext(request),
        requirement,
      );
      // The restricted session of a user still enrolling a factor is not a sign-in for an app.
      if (session.kind !== 'full') {
        return refused({
          status: 403,
          body: { error: { code: 'enrollment_only', message: 'Finish setting up a second factor first.' } },
        });
      }
      return { kind: 'authenticated', identity: identityFromSession(session) };
    } catch (err) {
      if (err instanceof StepUpRequiredError) {
        return refused(this.stepUpRefusal({ ...err.stepUp, endpoint: this.stepUpEndpoint }, err.message));
      }
      if (err instanceof UnauthenticatedError) return refused(unauthenticated(err.reason ?? 'invalid_token', err.message, true));
      if (err instanceof TwofoldUnavailableError || (err instanceof TwofoldError && err.status >= 500)) return refused(unavailable());
      if (err instanceof TwofoldError) return refused(unauthenticated('invalid_token', 'The credential is not valid.', true));
      throw err;
    }
  }

  private stepUpRefusal(stepUp: StepUpChallenge, message: string): Refusal {
    // RFC 9470 §3: the challenge a bearer client understands, beside twofold's JSON.
    const maxAge = stepUp.max_age_s === null ? '' : `, max_age=${stepUp.max_age_s}`;
    return {
      status: 401,
      body: { error: { code: 'step_up_required', message, step_up: stepUp } },
      wwwAuthenticate: `Bearer error="insufficient_user_authentication"${maxAge}`,
    };
  }
}

const refused = (refusal: Refusal): Authentication => ({ kind: 'refused', refusal });

/**
 * twofold compares every request with the context its session began in (continuous evaluation):
 * it must see the app's client, not the app. The User-Agent is forwarded as is; the address as
 * X-Forwarded-For, which twofold believes only from an address in its `trusted_proxies`.
 */
function clientContext(request: IncomingRequest): Record<string, string> {
  return {
    ...(request.userAgent ? { 'user-agent': request.userAgent.slice(0, 512) } : {}),
    ...(request.clientIp ? { 'x-forwarded-for': request.clientIp } : {}),
  };
}

/** The JWKS could not be fetched or read: nothing can be verified, which is not the token's fault. */
function keysUnreachable(err: unknown): boolean {
  if (!(err instanceof joseErrors.JOSEError)) return true;
  return err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid || err.code === 'ERR_JOSE_GENERIC';
}
