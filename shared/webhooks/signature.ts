/**
 * Signing webhook deliveries the Standard Webhooks way (https://www.standardwebhooks.com): HMAC-SHA256 over
 * `<webhook-id>.<webhook-timestamp>.<body>` with the key the secret encodes (base64, optionally prefixed
 * `whsec_`), sent as `webhook-signature: v1,<base64>`. Existing verifiers (the `standardwebhooks` libraries,
 * Svix) accept these deliveries with the same secret.
 */
import { createHmac } from 'node:crypto';
import { ConfigError } from '../errors.ts';

export const WEBHOOK_SECRET_PREFIX = 'whsec_';

/** The HMAC key a secret encodes; at least 24 bytes, as the specification asks. */
export function webhookKey(secret: string): Buffer {
  const encoded = secret.trim().startsWith(WEBHOOK_SECRET_PREFIX) ? secret.trim().slice(WEBHOOK_SECRET_PREFIX.length) : secret.trim();
  const key = Buffer.from(encoded, 'base64');
  if (key.length < 24 || key.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) {
    throw new ConfigError('The webhook signing secret must be base64 of at least 24 bytes, optionally prefixed "whsec_"');
  }
  return key;
}

/** `v1,<base64 HMAC-SHA256 of id.timestamp.body>`. */
export function signWebhook(key: Buffer, id: string, timestampSeconds: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`, 'utf8').digest('base64')}`;
}

/** The three headers of one delivery attempt, signed at `now`. */
export function webhookHeaders(key: Buffer, id: string, body: string, now: Date): Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signWebhook(key, id, timestamp, body) };
}
