import { hashToken } from '../core/ids.js';
import type { RandomBytes } from '../core/random.js';

/**
 * A long-lived cookie that tells a returning browser from a new one. Its value is "<id>.<secret>":
 * the id names the browser for the risk history (stored only as its SHA-256); the secret proves a
 * remembered device and is replaced at each use of that memory (rotation), so a copy of an old
 * cookie stops counting as the remembered browser once the real one has signed in again.
 */
export interface DeviceCookie {
  id: string;
  secret: string;
  /** No cookie came with the request: this value was made for it. */
  isNew: boolean;
  /** Send this value to the browser: set once a sign-in completes, for a new cookie or a rotated secret. */
  send: boolean;
}

/** Browsers cap a cookie's life at 400 days (RFC 6265bis §5.5); asked for again at every sign-in. */
export const DEVICE_COOKIE_MAX_AGE_S = 400 * 86_400;

/** Host-only even with cookie_domain: a device is this portal's browser, not a sub-domain's. */
export const deviceCookieName = (insecureCookies: boolean): string => (insecureCookies ? 'twofold_device' : '__Host-twofold_device');

const VALUE = /^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/;

export function parseDeviceCookie(value: string | undefined): DeviceCookie | undefined {
  const match = value === undefined ? null : VALUE.exec(value);
  return match ? { id: match[1]!, secret: match[2]!, isNew: false, send: false } : undefined;
}

export const newDeviceCookie = (random: RandomBytes): DeviceCookie => ({
  id: random(16).toString('base64url'),
  secret: random(32).toString('base64url'),
  isNew: true,
  send: false,
});

export const deviceCookieValue = (device: DeviceCookie): string => `${device.id}.${device.secret}`;

/** What the store and the risk history keep: hashes only. */
export const deviceHash = (device: DeviceCookie): string => hashToken(`device:${device.id}`);
export const secretHash = (secret: string): string => hashToken(`device-secret:${secret}`);
