import type { TokenSet, TwofoldClient } from './client.js';

export interface TokenKeeperOptions {
  /** Refresh when the access token has less than this left (ms); default 30 s. */
  refreshBeforeMs?: number;
  /** Called with every new pair, to persist the new refresh token (the old one no longer works). */
  onTokens?: (tokens: TokenSet) => void | Promise<void>;
  /** Default Date.now; the same clock as the client's. */
  now?: () => number;
}

/**
 * Holds one sign-in's tokens and refreshes them when needed, one refresh at a time. twofold ends
 * the whole sign-in when a refresh token is presented twice, and two concurrent refreshes with one
 * token are exactly that (docs/tokens.md), so callers that ask at the same moment share one refresh.
 * This covers one process; several processes sharing a sign-in must take turns themselves.
 */
export class TokenKeeper {
  private current: TokenSet;
  private inFlight: Promise<TokenSet> | undefined;
  private readonly refreshBeforeMs: number;
  private readonly now: () => number;

  constructor(
    private readonly client: TwofoldClient,
    tokens: TokenSet,
    private readonly options: TokenKeeperOptions = {},
  ) {
    this.current = tokens;
    this.refreshBeforeMs = options.refreshBeforeMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  get tokens(): TokenSet {
    return this.current;
  }

  /** An access token with at least refreshBeforeMs left, refreshing first if needed. */
  async accessToken(): Promise<string> {
    if (this.current.expiresAt.getTime() - this.now() > this.refreshBeforeMs) return this.current.accessToken;
    return (await this.refresh()).accessToken;
  }

  /** Refreshes now; concurrent calls share the one refresh. Errors (e.g. RefreshTokenReusedError) reach every caller. */
  refresh(): Promise<TokenSet> {
    this.inFlight ??= this.rotate().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** After a step-up: the new access token; the refresh token stays (twofold moved it to the new session). */
  replaceAccessToken(accessToken: string, expiresAt: Date, expiresIn: number): void {
    this.current = { ...this.current, accessToken, expiresAt, expiresIn };
  }

  private async rotate(): Promise<TokenSet> {
    const next = await this.client.refresh(this.current.refreshToken);
    this.current = next;
    await this.options.onTokens?.(next);
    return next;
  }
}
