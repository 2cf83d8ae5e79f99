import { middlewareSpec } from './middleware-spec.js';

// The Fastify preHandlers (@twofold/sdk/fastify): offline and online mode against a running twofold.
middlewareSpec('fastify');
