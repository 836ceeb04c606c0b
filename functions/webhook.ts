/**
 * Webhook function: on each `hitl.decision` event (an EventBridge rule on the decision bus), POST the
 * request's Decision to its `notify.url`, signed, with retries, and record the outcome once. Throws only when
 * the tables or the secret cannot be reached, so the invocation is retried (then kept in the dead-letter queue).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ENV, requireEnv } from '#shared/env.ts';
import { storeDepsFromEnv } from '#shared/deps-env.ts';
import { DecisionEventEnvelope } from '#shared/schemas/events.ts';
import { parseWith } from '#shared/schemas/parse.ts';
import { sendDecisionWebhook, type DecisionWebhookResult } from '#shared/webhooks/decision-webhook.ts';
import { postWebhook } from '#shared/webhooks/post.ts';
import { webhookSecretLoader } from '#shared/webhooks/secret.ts';

const store = storeDepsFromEnv('webhook', process.env, { dynamodb: new DynamoDBClient({}) });
const deps = {
  ...store,
  secret: webhookSecretLoader(new SecretsManagerClient({}), requireEnv(ENV.webhookSecretId, process.env)),
  post: postWebhook,
  sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
};

export async function handler(event: unknown): Promise<DecisionWebhookResult> {
  const { detail } = parseWith(DecisionEventEnvelope, event, 'hitl.decision event');
  return sendDecisionWebhook(deps, detail.requestId);
}
