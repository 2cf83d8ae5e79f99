import { middlewareSpec } from './middleware-spec.js';

// The Express middleware (@twofold/sdk/express): offline and online mode against a running twofold.
middlewareSpec('express');
