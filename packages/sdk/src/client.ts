import { Transport, type TransportOptions } from './http.js';
import type { SessionListItem, SessionView } from './identity.js';

/** What a token sign-in, a refresh and a step-up hand back (RFC 6749 §5.1 names, in camelCase). */
export interface TokenSet {
  accessToken: string;
  /** Good for exactly one refresh: store the new one every time. */
  refreshToken: string;
  tokenType: 'Bearer';
  /** Seconds the access token lives. */
  expiresIn: number;
  /** When the access token expires, by this machine's clock. */
  expiresAt: Date;
}

/** A second factor's answer, as `POST /api/v1/login/second-factor` and `/api/v1/session/step-up` take it. */
export type FactorAnswer =
  | { method: 'totp' | 'recovery_code'; code: string }
  /** `response`: the assertion from navigator.credentials.get() (see docs/webauthn.md). */
  | { method: 'webauthn'; response: unknown };

export type LoginResult =
  | { state: 'authenticated'; tokens: TokenSet }
  | { state: 'second_factor_required'; methods: string[]; pendingToken: string; expiresAt: Date }
  /** The user has no second factor yet: enrollment happens in a browser, on twofold's pages. */
  | { state: 'enrollment_required' };

/** What `GET /api/v1/session` may demand (401 step_up_required otherwise). */
export interface SessionRequirement {
  /** Seconds: a factor must have been proven this recently. */
  maxAge?: number;
  minAal?: 1 | 2;
  phishingResistant?: boolean;
}

export interface TwofoldClientOptions extends TransportOptions {
  /**
   * Sent as User-Agent. twofold compares it with the one the session began with (continuous
   * evaluation), so keep it the same for every call of one sign-in.
   */
  userAgent?: string;
  /** For expiresAt; default Date.now. */
  now?: () => number;
}

interface TokenAnswer {
  state?: string;
  access_token: string;
  refresh_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

interface LoginAnswer extends Partial<TokenAnswer> {
  state: 'authenticated' | 'second_factor_required' | 'enrollment_required';
  methods?: string[];
  expires_at?: string;
  pending_token?: string;
}

/**
 * twofold's API for an app that holds tokens rather than a cookie (a mobile app, a CLI, a server
 * acting for a user): sign-in, refresh with rotation, step-up, sessions, sign-out, and asking
 * twofold whether a credential is still good. Every refusal is thrown as a typed TwofoldError.
 */
export class TwofoldClient {
  private readonly transport: Transport;
  private readonly userAgent: string | undefined;
  private readonly now: () => number;

  constructor(options: TwofoldClientOptions) {
    this.transport = new Transport(options);
    this.userAgent = options.userAgent;
    this.now = options.now ?? Date.now;
  }

  /** Step one: username and password, asking for tokens rather than a cookie. */
  async login(input: { username: string; password: string }): Promise<LoginResult> {
    const { body } = await this.transport.call<LoginAnswer>({
      method: 'POST',
      path: '/api/v1/login',
      json: { username: input.username, password: input.password, session_type: 'tokens' },
      headers: this.headers(),
    });
    return this.loginResult(body);
  }

  /** Step two: the second factor for the pending sign-in login() returned. */
  async secondFactor(pendingToken: string, answer: FactorAnswer): Promise<TokenSet> {
    const { body } = await this.transport.call<LoginAnswer>({
      method: 'POST',
      path: '/api/v1/login/second-factor',
      json: answer,
      headers: this.headers(pendingToken),
    });
    const result = this.loginResult(body);
    if (result.state !== 'authenticated') throw new Error(`twofold answered ${result.state} to a second factor`);
    return result.tokens;
  }

  /**
   * A new access token and a new refresh token for a refresh token, which is spent (rotation).
   * Throws RefreshTokenReusedError when the token was already used (twofold then ends the whole
   * sign-in: refresh from one place at a time) and InvalidGrantError when it is otherwise no good.
   */
  async refresh(refreshToken: string): Promise<TokenSet> {
    const { body } = await this.transport.call<TokenAnswer>({
      method: 'POST',
      path: '/api/v1/token',
      json: { grant_type: 'refresh_token', refresh_token: refreshToken },
      headers: this.headers(),
    });
    return this.tokenSet(body);
  }

  /**
   * Proves a factor again (sudo mode). twofold replaces the session: the answer's access token names
   * the new one, and the refresh token in hand moves to it (it is not replaced).
   */
  async stepUp(accessToken: string, answer: FactorAnswer): Promise<{ accessToken: string; expiresIn: number; expiresAt: Date }> {
    const { body } = await this.transport.call<Omit<TokenAnswer, 'refresh_token'>>({
      method: 'POST',
      path: '/api/v1/session/step-up',
      json: answer,
      headers: this.headers(accessToken),
    });
    return { accessToken: body.access_token, expiresIn: body.expires_in, expiresAt: this.expiry(body.expires_in) };
  }

  /**
   * Online validation: twofold's view of the session behind an access token (or a session token),
   * checked now, so a revoked session is refused at once. With a requirement, a session that does
   * not meet it throws StepUpRequiredError.
   */
  validate(credential: string, requirement: SessionRequirement = {}): Promise<SessionView> {
    return this.validateFor({ bearer: credential }, {}, requirement);
  }

  /**
   * validate() for a credential an app received: a bearer token or twofold's cookies (a Cookie
   * header holding only them), with the app's client's User-Agent and address in `clientHeaders`.
   */
  async validateFor(
    credential: { bearer: string } | { cookie: string },
    clientHeaders: Record<string, string>,
    requirement: SessionRequirement = {},
  ): Promise<SessionView> {
    const { body } = await this.transport.call<SessionView>({
      method: 'GET',
      path: '/api/v1/session',
      query: {
        max_auth_age: requirement.maxAge,
        min_aal: requirement.minAal,
        phishing_resistant: requirement.phishingResistant || undefined,
      },
      headers: {
        ...this.headers('bearer' in credential ? credential.bearer : undefined),
        ...('cookie' in credential ? { cookie: credential.cookie } : {}),
        ...clientHeaders,
      },
    });
    return body;
  }

  /** The user's live sessions, this one marked `current`. */
  async sessions(accessToken: string): Promise<SessionListItem[]> {
    const { body } = await this.transport.call<{ sessions: SessionListItem[] }>({
      method: 'GET',
      path: '/api/v1/sessions',
      headers: this.headers(accessToken),
    });
    return body.sessions;
  }

  /** Ends one of the user's sessions (its tokens stop working at twofold at once). */
  async revokeSession(accessToken: string, sessionId: string): Promise<void> {
    await this.transport.call({
      method: 'DELETE',
      path: `/api/v1/sessions/${encodeURIComponent(sessionId)}`,
      headers: this.headers(accessToken),
    });
  }

  /** "Sign out everywhere else": ends every other session of the user; answers how many. */
  async revokeOtherSessions(accessToken: string): Promise<number> {
    const { body } = await this.transport.call<{ revoked: number }>({
      method: 'DELETE',
      path: '/api/v1/sessions',
      headers: this.headers(accessToken),
    });
    return body.revoked;
  }

  /** Ends this sign-in: the session and its refresh family. */
  async logout(accessToken: string): Promise<void> {
    await this.transport.call({ method: 'POST', path: '/api/v1/logout', headers: this.headers(accessToken) });
  }

  private headers(bearer?: string): Record<string, string> {
    return {
      ...(this.userAgent === undefined ? {} : { 'user-agent': this.userAgent }),
      ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
    };
  }

  private loginResult(body: LoginAnswer): LoginResult {
    if (body.state === 'second_factor_required') {
      return {
        state: body.state,
        methods: body.methods ?? [],
        pendingToken: body.pending_token ?? '',
        expiresAt: new Date(body.expires_at ?? 0),
      };
    }
    if (body.state === 'enrollment_required') return { state: body.state };
    return { state: 'authenticated', tokens: this.tokenSet(body as TokenAnswer) };
  }

  private tokenSet(body: TokenAnswer): TokenSet {
    return {
      accessToken: body.access_token,
      refreshToken: body.refresh_token,
      tokenType: 'Bearer',
      expiresIn: body.expires_in,
      expiresAt: this.expiry(body.expires_in),
    };
  }

  private expiry(expiresIn: number): Date {
    return new Date(this.now() + expiresIn * 1000);
  }
}
