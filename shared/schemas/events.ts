/**
 * Payloads between the state machine, the Scheduler and the functions. The state machine definition
 * (infra/) builds these with JSONPath; the functions validate them with these schemas.
 */
import * as z from 'zod';
import { Decision } from './decision.ts';

/** Route task payload: the raw agent input plus the execution's identity. */
export const RouteEvent = z.object({
  input: z.unknown(),
  executionArn: z.string().min(1),
  startedAt: z.string().min(1),
});
export type RouteEvent = z.infer<typeof RouteEvent>;

/** Route result: either a policy already decided, or a person must review. */
export const RouteResult = z.discriminatedUnion('route', [
  z.object({ route: z.literal('decided'), requestId: z.string(), decision: Decision }),
  z.object({ route: z.literal('review'), requestId: z.string(), request: z.unknown() }),
]);
export type RouteResult = z.infer<typeof RouteResult>;

/** Settle step payload: what came back with the task token, checked against the stored Decision. */
export const SettleEvent = z.object({
  action: z.literal('settle'),
  requestId: z.string().min(1),
  executionArn: z.string().min(1),
  review: z.unknown(),
});
export type SettleEvent = z.infer<typeof SettleEvent>;

/** EventBridge's "Step Functions Execution Status Change" event (the fields read here). */
export const ExecutionStatusChange = z.object({
  source: z.literal('aws.states'),
  'detail-type': z.literal('Step Functions Execution Status Change'),
  detail: z.object({
    executionArn: z.string().min(1),
    stateMachineArn: z.string().optional(),
    status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED', 'PENDING_REDRIVE']),
    input: z.string().nullish(),
    error: z.string().nullish(),
    cause: z.string().nullish(),
  }),
});
export type ExecutionStatusChange = z.infer<typeof ExecutionStatusChange>;

/**
 * A `hitl.decision` event as the webhook function's rule delivers it. Only the request id is used: the URL
 * and the Decision are read from the request row.
 */
export const DecisionEventEnvelope = z.object({
  source: z.literal('hitl'),
  'detail-type': z.literal('hitl.decision'),
  detail: z.looseObject({ requestId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/) }),
});
export type DecisionEventEnvelope = z.infer<typeof DecisionEventEnvelope>;

/** Human-review task payload (lambda:invoke.waitForTaskToken). */
export const RequestTaskEvent = z.object({
  requestId: z.string().min(1),
  request: z.unknown(),
  taskToken: z.string().min(1),
  executionArn: z.string().min(1),
});
export type RequestTaskEvent = z.infer<typeof RequestTaskEvent>;

/**
 * Expire function input. `expire` and `renotify` come from one-time schedules; `backstop` from the
 * state machine's Catch on States.Timeout.
 */
export const ExpireEvent = z.discriminatedUnion('action', [
  z.object({ action: z.literal('expire'), requestId: z.string(), tier: z.number().int().min(1), round: z.number().int().min(1) }),
  z.object({ action: z.literal('renotify'), requestId: z.string(), tier: z.number().int().min(1), round: z.number().int().min(1) }),
  z.object({ action: z.literal('remind'), requestId: z.string(), tier: z.number().int().min(1), round: z.number().int().min(1), reminder: z.number().int().min(1).max(5) }),
  z.object({ action: z.literal('backstop'), requestId: z.string() }),
]);
export type ExpireEvent = z.infer<typeof ExpireEvent>;
