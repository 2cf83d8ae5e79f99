import { hash } from 'node:crypto';
import type { RandomBytes } from './random.js';

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type UserId = Brand<string, 'UserId'>;
/** The public id of a session, shown in lists and used to revoke; never the secret token. */
export type SessionId = Brand<string, 'SessionId'>;
/** SHA-256 of a bearer secret (session token, pending-login token, setup token): the only form stored. */
export type TokenHash = Brand<string, 'TokenHash'>;

export const newUserId = (random: RandomBytes) => `usr_${random(12).toString('base64url')}` as UserId;
export const newSessionId = (random: RandomBytes) => `ses_${random(12).toString('base64url')}` as SessionId;
export const newRecordId = (prefix: string, random: RandomBytes) => `${prefix}_${random(12).toString('base64url')}`;

/** A 256-bit secret for a cookie or bearer header (OWASP: at least 64 bits of entropy; we take 256). */
export const newSecretToken = (random: RandomBytes): string => random(32).toString('base64url');

/**
 * Tokens are high-entropy, so a fast unsalted hash is enough: a leaked table reveals no usable token.
 * One-shot hash() (Node 20.12+): this runs on every gated request, at a third of a createHash()'s cost.
 */
export const hashToken = (token: string): TokenHash => hash('sha256', token, 'hex') as TokenHash;

/** Cheap shape check before any lookup, so junk never reaches the store. */
export const looksLikeSecretToken = (token: string): boolean => /^[A-Za-z0-9_-]{43}$/.test(token);
