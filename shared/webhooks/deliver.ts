/**
 * Delivering one webhook message with retries: 2xx is delivered; a timeout, a network error, 5xx, 408 and
 * 429 are tried again after 1 s, 2 s, 4 s … (at most 30 s, with jitter) up to `maxAttempts`; any other answer
 * (other 4xx, a redirect, which is not followed) and an address the URL may not reach end it at once. Each
 * attempt is signed anew (its own timestamp) under the same `webhook-id`, which receivers deduplicate by.
 */
import type { Log } from '../clients.ts';
import { describeError } from '../review/decisions.ts';
import { WebhookAddressError, type Post } from './post.ts';
import { webhookHeaders } from './signature.ts';

export interface WebhookMessage {
  url: string;
  /** Same for every attempt (and every re-delivery) of one message. */
  id: string;
  body: string;
}

export type WebhookOutcome =
  | { delivered: true; attempts: number; status: number }
  | { delivered: false; attempts: number; status?: number; reason: string };

export interface DeliverDeps {
  post: Post;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  log: Log;
  /** 0 to 1, for the jitter. */
  random?: () => number;
}

export interface DeliverOptions {
  maxAttempts: number;
  timeoutMs: number;
  /** Pause before the second attempt; doubled for each one after. @default 1000 */
  baseDelayMs?: number;
  /** Fields every log line carries, e.g. the request id. */
  context?: Record<string, unknown>;
}

const MAX_DELAY_MS = 30_000;

/** Whether an answer with this status is worth another attempt. */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** What `describeError` names a failed attempt, without the URL (it may carry the agent's own token). */
function failure(err: unknown, url: string): { error: string; retryable: boolean } {
  const { name, message } = describeError(err, [url]);
  return { error: `${name}: ${message}`, retryable: !(err instanceof WebhookAddressError) };
}

export function backoffMs(retry: number, base: number, random: () => number): number {
  const delay = Math.min(MAX_DELAY_MS, base * 2 ** retry);
  return Math.round(delay * (0.8 + 0.4 * random()));
}

export async function deliverWebhook(deps: DeliverDeps, key: Buffer, message: WebhookMessage, options: DeliverOptions): Promise<WebhookOutcome> {
  const host = new URL(message.url).host;
  const context = { ...options.context, webhookId: message.id, host };
  let last: { status?: number; reason: string } = { reason: 'not attempted' };
  for (let attempt = 1; attempt <= options.maxAttempts; attempt++) {
    const started = Date.now();
    let retryable: boolean;
    try {
      const { status } = await deps.post(message.url, webhookHeaders(key, message.id, message.body, deps.now()), message.body, { timeoutMs: options.timeoutMs });
      const durationMs = Date.now() - started;
      if (status >= 200 && status < 300) {
        deps.log.info('Webhook attempt delivered', { ...context, attempt, status, durationMs });
        return { delivered: true, attempts: attempt, status };
      }
      retryable = isRetryableStatus(status);
      last = { status, reason: `answered ${status}${status >= 300 && status < 400 ? ' (redirects are not followed)' : ''}` };
      deps.log.warn('Webhook attempt failed', { ...context, attempt, status, durationMs, retryable });
    } catch (err) {
      const { error, retryable: again } = failure(err, message.url);
      retryable = again;
      last = { reason: error };
      deps.log.warn('Webhook attempt failed', { ...context, attempt, error, durationMs: Date.now() - started, retryable });
    }
    if (!retryable) return { delivered: false, attempts: attempt, ...last };
    if (attempt < options.maxAttempts) await deps.sleep(backoffMs(attempt - 1, options.baseDelayMs ?? 1000, deps.random ?? Math.random));
  }
  return { delivered: false, attempts: options.maxAttempts, ...last, reason: `${last.reason}, after ${options.maxAttempts} attempt(s)` };
}
