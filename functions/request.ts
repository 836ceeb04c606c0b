/**
 * Human-review task (lambda:invoke.waitForTaskToken): stores the pending request with its task token,
 * schedules its expiry and emails the first tier. The execution waits until someone sends the token back.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESClient } from '@aws-sdk/client-ses';
import { SFNClient } from '@aws-sdk/client-sfn';
import { lazyClient } from '#shared/clients.ts';
import { HitlError, IdempotencyConflictError, InvalidRequestError } from '#shared/errors.ts';
import { admitRequest } from '#shared/review/admission.ts';
import { reviewDepsFromEnv } from '#shared/deps-env.ts';
import { describeError } from '#shared/review/decisions.ts';
import { openReview, type OpenReviewResult } from '#shared/review/open.ts';
import { RequestTaskEvent } from '#shared/schemas/events.ts';
import { formatIssues } from '#shared/schemas/issues.ts';

const deps = reviewDepsFromEnv('request', process.env, {
  dynamodb: new DynamoDBClient({}),
  ses: new SESClient({}),
  scheduler: new SchedulerClient({}),
  secrets: new SecretsManagerClient({}),
  // Only a replayed task whose request was already decided resumes its execution from here.
  sfn: lazyClient(() => new SFNClient({})),
});

export async function handler(event: unknown): Promise<OpenReviewResult> {
  const parsed = RequestTaskEvent.safeParse(event);
  // The issues name paths only; the payload (and its task token) is never logged or echoed.
  if (!parsed.success) throw new HitlError(`The state machine sent a malformed review task payload:\n${formatIssues(parsed.error.issues)}`);
  const { requestId, taskToken, executionArn } = parsed.data;
  try {
    const { request, group, requestHash, resolved } = admitRequest(parsed.data.request, deps.config);
    return await openReview(deps, { requestId, request, group, taskToken, executionArn, requestHash, resolved });
  } catch (err) {
    const expected = err instanceof InvalidRequestError || err instanceof IdempotencyConflictError;
    (expected ? deps.log.warn : deps.log.error).call(deps.log, 'Review task failed', { requestId, error: describeError(err, [taskToken]) });
    throw err;
  }
}
