import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { TwofoldAuthenticator, type AuthenticatorOptions, type Refusal } from './authenticator.js';
import type { IncomingRequest } from './credentials.js';
import type { TwofoldIdentity } from './identity.js';
import type { StepUpOptions } from './step-up.js';

declare global {
  namespace Express {
    interface Request {
      /** Set by twofold's `authenticate` middleware. */
      twofold?: TwofoldIdentity;
    }
  }
}

export interface TwofoldExpress {
  /** Lets the request through with `req.twofold` set, or answers 401 (503 when twofold cannot be asked). */
  authenticate: RequestHandler;
  /** After `authenticate`: answers 401 step_up_required unless the session meets the requirement. */
  requireStepUp(requirement: StepUpOptions): RequestHandler;
  authenticator: TwofoldAuthenticator;
}

const incoming = (req: Request): IncomingRequest => ({
  authorization: req.headers.authorization,
  cookie: req.headers.cookie,
  userAgent: req.headers['user-agent'],
  clientIp: req.ip,
});

function refuse(res: Response, refusal: Refusal): void {
  if (refusal.wwwAuthenticate) res.setHeader('WWW-Authenticate', refusal.wwwAuthenticate);
  res.setHeader('Cache-Control', 'no-store');
  res.status(refusal.status).json(refusal.body);
}

/** Express middleware: `app.get('/me', twofold.authenticate, (req, res) => res.json(req.twofold))`. */
export function twofoldExpress(options: AuthenticatorOptions): TwofoldExpress {
  const authenticator = new TwofoldAuthenticator(options);
  return {
    authenticator,
    authenticate(req: Request, res: Response, next: NextFunction): void {
      authenticator.authenticate(incoming(req)).then((result) => {
        if (result.kind === 'refused') return refuse(res, result.refusal);
        req.twofold = result.identity;
        next();
      }, next);
    },
    requireStepUp(requirement: StepUpOptions): RequestHandler {
      return (req, res, next) => {
        if (!req.twofold) {
          next(new Error('requireStepUp() must come after twofold authenticate'));
          return;
        }
        authenticator.checkStepUp(req.twofold, requirement, incoming(req)).then((refusal) => {
          if (refusal) return refuse(res, refusal);
          next();
        }, next);
      };
    },
  };
}
