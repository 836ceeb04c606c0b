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
import { concludeDepsFromEnv } from '#shared/deps-env.ts';
import { concludeRequest, type ConcludeResult } from '#shared/review/conclude.ts';
import { DecisionEventEnvelope } from '#shared/schemas/events.ts';
import { parseWith } from '#shared/schemas/parse.ts';

// Many events email nobody (a policy decided, or the only person asked did) and update no Slack message.
const deps = concludeDepsFromEnv(process.env, {
  dynamodb: new DynamoDBClient({}),
  ses: lazyClient(() => new SESClient({})),
  secrets: lazyClient(() => new SecretsManagerClient({})),
});

export async function handler(event: unknown): Promise<ConcludeResult> {
  const { detail } = parseWith(DecisionEventEnvelope, event, 'hitl.decision event');
  return concludeRequest(deps, detail.requestId);
}
