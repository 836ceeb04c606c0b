/**
 * Conclude function: on each `hitl.decision` event (an EventBridge rule on the decision bus), tell the other
 * reviewers how the request ended and show the outcome on its channels, after the reviewer's page has
 * returned. Throws only when the table cannot be reached, so the invocation is retried (then kept in the
 * dead-letter queue).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient } from '@aws-sdk/client-ses';
import { lazyClient } from '#shared/clients.ts';
import { concludeRequest, type ConcludeDeps, type ConcludeResult } from '#shared/review/conclude.ts';
import { slackDepsFromEnv, storeDepsFromEnv } from '#shared/review/deps.ts';
import { DecisionEventEnvelope } from '#shared/schemas/events.ts';
import { parseWith } from '#shared/schemas/parse.ts';

const store = storeDepsFromEnv('conclude', process.env, { dynamodb: new DynamoDBClient({}) });
const deps: ConcludeDeps = {
  ...store,
  // Many events email nobody (a policy decided, or the only person asked did) and update no Slack message.
  ses: lazyClient(() => new SESClient({})),
  ...slackDepsFromEnv(store.config, process.env, lazyClient(() => new SecretsManagerClient({}))),
};

export async function handler(event: unknown): Promise<ConcludeResult> {
  const { detail } = parseWith(DecisionEventEnvelope, event, 'hitl.decision event');
  return concludeRequest(deps, detail.requestId);
}
