import type { FastifyReply, FastifyRequest } from 'fastify';
import { TwofoldAuthenticator, type AuthenticatorOptions, type Refusal } from './authenticator.js';
import type { IncomingRequest } from './credentials.js';
import type { TwofoldIdentity } from './identity.js';
import type { StepUpOptions } from './step-up.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by twofold's `authenticate` preHandler. */
    twofold?: TwofoldIdentity;
  }
}

type PreHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;

export interface TwofoldFastify {
  /** A preHandler: sets `request.twofold`, or answers 401 (503 when twofold cannot be asked). */
  authenticate: PreHandler;
  /** A preHandler after `authenticate`: answers 401 step_up_required unless the session meets the requirement. */
  requireStepUp(requirement: StepUpOptions): PreHandler;
  authenticator: TwofoldAuthenticator;
}

const incoming = (request: FastifyRequest): IncomingRequest => ({
  authorization: request.headers.authorization,
  cookie: request.headers.cookie,
  userAgent: request.headers['user-agent'],
  clientIp: request.ip,
});

const refuse = (reply: FastifyReply, refusal: Refusal): FastifyReply => {
  if (refusal.wwwAuthenticate) reply.header('WWW-Authenticate', refusal.wwwAuthenticate);
  return reply.code(refusal.status).header('Cache-Control', 'no-store').send(refusal.body);
};

/** Fastify preHandlers: `app.get('/me', { preHandler: twofold.authenticate }, (request) => request.twofold)`. */
export function twofoldFastify(options: AuthenticatorOptions): TwofoldFastify {
  const authenticator = new TwofoldAuthenticator(options);
  return {
    authenticator,
    async authenticate(request, reply) {
      const result = await authenticator.authenticate(incoming(request));
      if (result.kind === 'refused') return refuse(reply, result.refusal);
      request.twofold = result.identity;
      return undefined;
    },
    requireStepUp(requirement) {
      return async function twofoldStepUp(request, reply) {
        if (!request.twofold) throw new Error('requireStepUp() must come after twofold authenticate');
        const refusal = await authenticator.checkStepUp(request.twofold, requirement, incoming(request));
        return refusal ? refuse(reply, refusal) : undefined;
      };
    },
  };
}
