export {
  TwofoldClient,
  type FactorAnswer,
  type LoginResult,
  type SessionRequirement,
  type TokenSet,
  type TwofoldClientOptions,
} from './client.js';
export { TwofoldAuthenticator, type Authentication, type AuthenticatorOptions, type Refusal } from './authenticator.js';
export type { IncomingRequest } from './credentials.js';
export {
  InvalidGrantError,
  RateLimitedError,
  RefreshTokenReusedError,
  SignInError,
  StepUpRequiredError,
  TwofoldError,
  TwofoldUnavailableError,
  UnauthenticatedError,
  type ErrorBody,
  type StepUpChallenge,
  type TwofoldErrorCode,
} from './errors.js';
export type { SessionListItem, SessionView, TwofoldIdentity } from './identity.js';
export { judgeStepUpOffline, type StepUpOptions } from './step-up.js';
export { TokenKeeper, type TokenKeeperOptions } from './token-keeper.js';
