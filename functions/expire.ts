/**
 * Expire function: the Scheduler's one-time `expire` / `renotify` / `remind` events for a request's round, and the
 * state machine's `backstop` when the human-review task times out.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient } from '@aws-sdk/client-ses';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { lazyClient } from '#shared/clients.ts';
import { ENV } from '#shared/env.ts';
import { parseWith } from '#shared/schemas/parse.ts';
import { reviewDepsFromEnv } from '#shared/deps-env.ts';
import type { ReviewDeps } from '#shared/review/deps.ts';
import { backstop, expireRound, renotify, type ExpireResult } from '#shared/review/expire.ts';
import { remindRound, type RemindResult } from '#shared/review/remind.ts';
import type { Decision } from '#shared/schemas/decision.ts';
import { ExpireEvent } from '#shared/schemas/events.ts';

let deps: ReviewDeps | undefined;

/** Its own ARN cannot be in its environment (a CloudFormation cycle), so new schedules target the invoked ARN. */
function depsFor(context: Pick<Context, 'invokedFunctionArn'>): ReviewDeps {
  if (!deps) {
    const ownArn = context.invokedFunctionArn.split(':').slice(0, 7).join(':');
    const env = { ...process.env, [ENV.expireFunctionArn]: process.env[ENV.expireFunctionArn] ?? ownArn };
    deps = reviewDepsFromEnv('expire', env, {
      dynamodb: new DynamoDBClient({}),
      sfn: new SFNClient({}),
      scheduler: new SchedulerClient({}),
      // Only escalating to the next tier and reminders send email (and sign links).
      ses: lazyClient(() => new SESClient({})),
      secrets: lazyClient(() => new SecretsManagerClient({})),
    });
  }
  return deps;
}

export async function handler(event: unknown, context: Pick<Context, 'invokedFunctionArn'>): Promise<Decision | ExpireResult | RemindResult> {
  const d = depsFor(context);
  const input = parseWith(ExpireEvent, event, 'ExpireEvent');
  switch (input.action) {
    case 'expire':
      return expireRound(d, input);
    case 'renotify':
      return renotify(d, input);
    case 'remind':
      return remindRound(d, input);
    case 'backstop':
      return backstop(d, input.requestId);
  }
}
