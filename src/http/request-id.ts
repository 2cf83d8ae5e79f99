import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';

/** An id a proxy in front already gave the request is kept if it looks like one (no spaces, no control characters, short). */
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** Request ids per prefix before a new random prefix is drawn (the 12 hex digits of the counter). */
const PER_PREFIX = 2 ** 48;

/**
 * Request ids in the form of a UUID (RFC 9562 version 8, the custom layout): 74 random bits drawn
 * once per process and again every 2^48 requests, then a 48-bit counter. Two processes share a
 * prefix with a chance of about n²/2^75 among n processes (a random UUID has 122 random bits); a
 * request id is no secret, so it need not be unpredictable.
 * randomUUID() per request built its 36 characters from 20 pieces: about 590 bytes of garbage on
 * every forward-auth check, the hottest path there is (bench/README.md).
 */
export function requestIds(random: (size: number) => Buffer = randomBytes): () => string {
  let prefix = '';
  let counter = PER_PREFIX;
  return () => {
    if (counter === PER_PREFIX) {
      const hex = random(10).toString('hex');
      // xxxxxxxx-xxxx-8xxx-[89ab]xxx-: version 8, variant 10.
      const variant = ((parseInt(hex[15]!, 16) & 0x3) | 0x8).toString(16);
      prefix = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(12, 15)}-${variant}${hex.slice(16, 19)}-`;
      counter = 0;
    }
    return prefix + (counter++).toString(16).padStart(12, '0');
  };
}

const nextRequestId = requestIds();

/**
 * Every log line of a request carries its id; the client gets it back in X-Request-Id, so a
 * support request can be matched with the log. A proxy's X-Request-Id is reused to join both logs.
 */
export function genReqId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && ACCEPTABLE_ID.test(given) ? given : nextRequestId();
}

export function echoRequestId(request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void {
  reply.header('x-request-id', request.id);
  done();
}
