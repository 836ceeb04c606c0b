/**
 * Settle function: the end of an execution. The state machine's Settle step (after the human-review task)
 * returns the Decision stored in the requests table, refusing a forged resume; the execution status-change
 * event (an EventBridge rule on ABORTED, FAILED and TIMED_OUT) cancels the request an ended execution left
 * pending.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient } from '@aws-sdk/client-ses';
import { SFNClient } from '@aws-sdk/client-sfn';
import { lazyClient } from '#shared/clients.ts';
import { HitlError } from '#shared/errors.ts';
import { cancelForEndedExecution, type CancelResult } from '#shared/review/cancel.ts';
import { reviewDepsFromEnv } from '#shared/deps-env.ts';
import { settleDecision } from '#shared/review/settle.ts';
import type { Decision } from '#shared/schemas/decision.ts';
import { ExecutionStatusChange, SettleEvent } from '#shared/schemas/events.ts';
import { formatIssues } from '#shared/schemas/issues.ts';

const deps = reviewDepsFromEnv(
  'settle',
  process.env,
  {
    dynamodb: new DynamoDBClient({}),
    // Settling reads the table; only cancelling an ended execution's request touches the others.
    sfn: lazyClient(() => new SFNClient({})),
    scheduler: lazyClient(() => new SchedulerClient({})),
    // Never called: a cancel emails nobody (the conclude function tells the reviewers).
    ses: lazyClient(() => new SESClient({})),
    secrets: lazyClient(() => new SecretsManagerClient({})),
  },
  { channels: false },
);

export async function handler(event: unknown): Promise<Decision | CancelResult> {
  const settle = SettleEvent.safeParse(event);
  if (settle.success) return settleDecision(deps, settle.data);
  const ended = ExecutionStatusChange.safeParse(event);
  if (ended.success) return cancelForEndedExecution(deps, ended.data.detail);
  throw new HitlError(`The settle function got an event it does not handle:\n${formatIssues(ended.error.issues)}`);
}
