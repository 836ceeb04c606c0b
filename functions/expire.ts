/**
 * Expire function: the Scheduler's one-time `expire` / `renotify` events for a request's round, and the
 * state machine's `backstop` when the human-review task times out.
 */
import type { Context } from 'aws-lambda';
import { ENV } from '#shared/env.ts';
import { parseWith } from '#shared/schemas/parse.ts';
import { reviewDepsFromEnv, type ReviewDeps } from '#shared/review/deps.ts';
import { backstop, expireRound, renotify, type ExpireResult } from '#shared/review/expire.ts';
import type { Decision } from '#shared/schemas/decision.ts';
import { ExpireEvent } from '#shared/schemas/events.ts';

let deps: ReviewDeps | undefined;

/** Its own ARN cannot be in its environment (a CloudFormation cycle), so new schedules target the invoked ARN. */
function depsFor(context: Pick<Context, 'invokedFunctionArn'>): ReviewDeps {
  if (!deps) {
    const ownArn = context.invokedFunctionArn.split(':').slice(0, 7).join(':');
    deps = reviewDepsFromEnv('expire', { ...process.env, [ENV.expireFunctionArn]: process.env[ENV.expireFunctionArn] ?? ownArn });
  }
  return deps;
}

export async function handler(event: unknown, context: Pick<Context, 'invokedFunctionArn'>): Promise<Decision | ExpireResult> {
  const d = depsFor(context);
  const input = parseWith(ExpireEvent, event, 'ExpireEvent');
  switch (input.action) {
    case 'expire':
      return expireRound(d, input);
    case 'renotify':
      return renotify(d, input);
    case 'backstop':
      return backstop(d, input.requestId);
  }
}
