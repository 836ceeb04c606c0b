/**
 * Verifying a Decision webhook from hitl: the Standard Webhooks scheme (https://www.standardwebhooks.com).
 * `webhook-signature` holds one or more `v1,<base64 HMAC-SHA256>` over `<webhook-id>.<webhook-timestamp>.<body>`,
 * keyed with the base64 secret (`whsec_` prefix optional). The body must be the raw bytes received, not a
 * re-serialized object. Receivers should deduplicate by `webhook-id` (the request id): a delivery may repeat.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { Decision } from './contract.ts';

export const WebhookDecision = Decision.extend({
  agent: z.string(),
  actionType: z.string(),
  executionArn: z.string(),
  status: z.enum(['DECIDED', 'EXPIRED', 'CANCELLED']),
});
/** The body of a hitl Decision webhook: the Decision, plus the request's agent, action type, execution and status. */
export type WebhookDecision = z.infer<typeof WebhookDecision>;

export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

export interface VerifyWebhookOptions {
  /** How far `webhook-timestamp` may be from now, either way. @default 300 */
  toleranceSeconds?: number;
  /** @default the system clock */
  now?: () => Date;
}

type Headers = Record<string, string | string[] | undefined> | { get(name: string): string | null };

function header(headers: Headers, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  const record = headers as Record<string, string | string[] | undefined>;
  const key = Object.keys(record).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : record[key];
  return Array.isArray(value) ? value[0] : value;
}

function keyOf(secret: string): Buffer {
  const encoded = secret.trim().replace(/^whsec_/, '');
  const key = Buffer.from(encoded, 'base64');
  if (key.length === 0) throw new WebhookVerificationError('The webhook secret is empty or not base64');
  return key;
}

/**
 * Check a delivery's signature and timestamp and return its Decision; throws WebhookVerificationError when
 * the signature does not match, a header is missing, or the timestamp is outside the tolerance.
 * `headers`: a fetch `Headers` or a Node `IncomingHttpHeaders`-like record; `body`: the raw request body.
 */
export function verifyWebhook(secret: string, headers: Headers, body: string | Buffer, options: VerifyWebhookOptions = {}): WebhookDecision {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError('Missing webhook-id, webhook-timestamp or webhook-signature header');
  if (!/^\d{1,12}$/.test(timestamp)) throw new WebhookVerificationError('webhook-timestamp is not a number of seconds');
  const tolerance = options.toleranceSeconds ?? 300;
  const now = Math.floor((options.now?.() ?? new Date()).getTime() / 1000);
  if (Math.abs(now - Number(timestamp)) > tolerance) throw new WebhookVerificationError(`webhook-timestamp is more than ${tolerance} s from now: a stale or replayed delivery`);

  const raw = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const expected = createHmac('sha256', keyOf(secret)).update(`${id}.${timestamp}.`).update(raw).digest();
  const matches = signatures.split(' ').some((entry) => {
    const [version, signature] = entry.split(',', 2);
    if (version !== 'v1' || !signature) return false;
    const given = Buffer.from(signature, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matches) throw new WebhookVerificationError('No webhook-signature matches: not signed with this secret, or the body was changed');

  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new WebhookVerificationError('The signed body is not JSON');
  }
  const decision = WebhookDecision.safeParse(parsed);
  if (!decision.success) throw new WebhookVerificationError(`The signed body is not a hitl Decision: ${decision.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return decision.data;
}
