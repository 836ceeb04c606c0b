/**
 * Route task: validates the agent's ReviewRequest and either returns a policy's Decision or sends the
 * request to review. Invalid input throws InvalidRequestError, which fails the execution with that name.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HitlError } from '#shared/errors.ts';
import { storeDepsFromEnv } from '#shared/deps-env.ts';
import { describeError } from '#shared/review/decisions.ts';
import { routeReviewRequest } from '#shared/review/route.ts';
import { RouteEvent, type RouteResult } from '#shared/schemas/events.ts';
import { formatIssues } from '#shared/schemas/issues.ts';

const deps = storeDepsFromEnv('route', process.env, { dynamodb: new DynamoDBClient({}) });

export async function handler(event: unknown): Promise<RouteResult> {
  const parsed = RouteEvent.safeParse(event);
  if (!parsed.success) throw new HitlError(`The state machine sent a malformed route payload:\n${formatIssues(parsed.error.issues)}`);
  try {
    return await routeReviewRequest(deps, parsed.data);
  } catch (err) {
    const issues = (err as { issues?: unknown }).issues;
    deps.log.warn('Request not routed', { executionArn: parsed.data.executionArn, error: describeError(err), ...(Array.isArray(issues) ? { issues } : {}) });
    throw err;
  }
}
