/**
 * The Decision's webhook: when a request that named `notify.url` ends, POST its Decision there, signed, and
 * record the outcome once (`webhook-delivered` or `webhook-failed` in the decision log, with the row's
 * `webhook` field, in one transaction).
 *
 * Triggered by the request's `hitl.decision` event, but trusting only its request id: the URL and the body
 * come from the request row (anyone allowed to put events on the bus could forge a detail). The body is the
 * decision event's detail as built from the row: the Decision plus requestId, agent, actionType,
 * executionArn and status; never a task token or a link.
 */
import type { Log } from '../clients.ts';
import { decisionEventDetail } from '../review/decision-event.ts';
import { describeError } from '../review/decisions.ts';
import { purgeAt } from '../review/notify.ts';
import type { DeploymentConfig } from '../schemas/config.ts';
import type { Ledger } from '../store/ledger.ts';
import { FINAL_STATUSES, type WebhookRecord } from '../store/model.ts';
import type { RequestStore } from '../store/requests.ts';
import { deliverWebhook, type DeliverDeps, type WebhookOutcome } from './deliver.ts';
import { webhookKey } from './signature.ts';
import { webhookUrlIssue } from './url.ts';

export interface DecisionWebhookDeps extends Omit<DeliverDeps, 'log'> {
  config: DeploymentConfig;
  requests: RequestStore;
  ledger: Ledger;
  log: Log;
  /** The signing secret (`whsec_…` or bare base64), read from Secrets Manager and cached. */
  secret: () => Promise<string>;
  /** Pause before the second attempt (tests shorten it). @default 1000 */
  baseDelayMs?: number;
}

export type DecisionWebhookResult = 'delivered' | 'failed' | 'not-requested' | 'already-recorded' | 'not-final' | 'not-found';

export async function sendDecisionWebhook(deps: DecisionWebhookDeps, requestId: string): Promise<DecisionWebhookResult> {
  const row = await deps.requests.get(requestId);
  if (!row) {
    deps.log.warn('A decision event names a request that does not exist; no webhook sent', { requestId });
    return 'not-found';
  }
  const url = row.request.notify?.url;
  if (!url) return 'not-requested';
  if (row.webhook) {
    deps.log.info('Webhook outcome already recorded; not sent again', { requestId, outcome: row.webhook.outcome });
    return 'already-recorded';
  }
  if (!FINAL_STATUSES.includes(row.status) || !row.decision) {
    deps.log.warn('A decision event names a request that has not ended; no webhook sent', { requestId, status: row.status });
    return 'not-final';
  }
  const host = new URL(url).host;
  const context = { requestId, webhookId: requestId, host };
  const refused = webhookUrlIssue(url, deps.config.webhooks);
  let outcome: WebhookOutcome;
  if (refused) {
    outcome = { delivered: false, attempts: 0, reason: `notify.url is no longer allowed: ${refused}` };
  } else {
    const key = webhookKey(await deps.secret());
    const body = JSON.stringify(decisionEventDetail(row, row.decision));
    outcome = await deliverWebhook(deps, key, { url, id: requestId, body }, {
      maxAttempts: deps.config.webhooks.maxAttempts,
      timeoutMs: deps.config.webhooks.timeoutSeconds * 1000,
      baseDelayMs: deps.baseDelayMs,
      context: { requestId },
    });
  }

  const at = deps.now().toISOString();
  const record: WebhookRecord = outcome.delivered
    ? { outcome: 'delivered', at, attempts: outcome.attempts, status: outcome.status }
    : { outcome: 'failed', at, attempts: outcome.attempts, ...(outcome.status === undefined ? {} : { status: outcome.status }), reason: outcome.reason };
  const event = outcome.delivered ? 'webhook-delivered' : 'webhook-failed';
  const details = { host, attempts: record.attempts, ...(record.status === undefined ? {} : { status: record.status }), ...(record.reason ? { reason: record.reason } : {}) };
  let recorded: boolean;
  try {
    recorded = await deps.ledger.recordWebhook(requestId, record, { requestId, event, at, actor: 'webhook', tier: row.tier, details, ...purgeAt(deps.config, deps.now()) });
  } catch (err) {
    deps.log.error('Could not record the webhook outcome; the delivery will be retried', { ...context, error: describeError(err) });
    throw err;
  }
  const line = { ...context, outcome: record.outcome, attempts: record.attempts, ...(record.status === undefined ? {} : { status: record.status }), ...(record.reason ? { reason: record.reason } : {}), recorded };
  if (outcome.delivered) deps.log.info('Webhook delivered', line);
  else deps.log.error('Webhook failed', line);
  return record.outcome;
}
