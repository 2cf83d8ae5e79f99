import { randomBytes } from 'node:crypto';

/** The only source of randomness in the core, injected so tests can be deterministic where they need it. */
export type RandomBytes = (size: number) => Buffer;

export const systemRandom: RandomBytes = (size) => randomBytes(size);
