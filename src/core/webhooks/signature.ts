import { createHmac } from 'node:crypto';
import type { RandomBytes } from '../random.js';

/**
 * Standard Webhooks (https://www.standardwebhooks.com/, "Signature scheme"): the signed content is
 * `${webhook-id}.${webhook-timestamp}.${body}`, signed with HMAC-SHA256 under the endpoint's secret,
 * and sent as `webhook-signature: v1,<base64 signature>`. The secret travels as `whsec_<base64>`;
 * the key is its base64-decoded bytes.
 */

const SECRET_PREFIX = 'whsec_';
/** The spec asks for 24 to 64 bytes of key; 32 bytes matches the HMAC-SHA256 block's security level. */
const SECRET_BYTES = 32;

/** A fresh endpoint secret in its display form, `whsec_<base64>`: shown once, then only stored sealed. */
export function newWebhookSecret(random: RandomBytes): string {
  return `${SECRET_PREFIX}${random(SECRET_BYTES).toString('base64')}`;
}

/** The HMAC key inside `whsec_<base64>`; null when the text is not a well-formed secret. */
export function webhookSecretKey(secret: string): Buffer | null {
  if (!secret.startsWith(SECRET_PREFIX)) return null;
  const encoded = secret.slice(SECRET_PREFIX.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return null;
  const key = Buffer.from(encoded, 'base64');
  return key.length >= 24 && key.length <= 64 ? key : null;
}

export type SignedHeaders = {
  'webhook-id': string;
  /** Seconds since the epoch, when this attempt is made (receivers refuse stale ones: replay defence). */
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/** The three Standard Webhooks headers for one attempt of one message. */
export function signWebhook(key: Buffer, messageId: string, timestampSeconds: number, body: string): SignedHeaders {
  const timestamp = String(Math.floor(timestampSeconds));
  const signature = createHmac('sha256', key).update(`${messageId}.${timestamp}.${body}`).digest('base64');
  return { 'webhook-id': messageId, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
}
