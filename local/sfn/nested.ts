/**
 * Nested executions (`states:startExecution[.sync|.sync:2]`): the child's name, and what the parent's task
 * returns or fails with, in the shapes Step Functions uses.
 */
import { createHash } from 'node:crypto';
import type { ExecutionWait, Json, JsonObject } from './definition.ts';
import { StatesError } from './errors.ts';
import type { ExecutionRecord } from './store.ts';

/**
 * The name of the n-th child a parent's Task state starts when the parameters name none. Step Functions picks a
 * random UUID; this one is derived (UUID-shaped) so that a parent replayed after a restart finds the child it
 * started before, instead of starting a second one.
 */
export function childExecutionName(parentArn: string, stateName: string, n: number): string {
  const hex = createHash('sha256').update(`${parentArn}\n${stateName}\n${n}`, 'utf8').digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export interface ChildParameters {
  stateMachineArn: string;
  /** The child's input as JSON text. */
  input: string;
  name?: string;
}

/** The task's Parameters: StateMachineArn, Input (JSON or JSON text), optional Name. */
export function childParameters(stateName: string, params: Json): ChildParameters {
  const p = (params ?? {}) as JsonObject;
  if (typeof p.StateMachineArn !== 'string') {
    throw new StatesError('States.Runtime', `Task state ${stateName}: Parameters.StateMachineArn must be the ARN of the state machine to start`);
  }
  if (p.Name !== undefined && typeof p.Name !== 'string') throw new StatesError('States.Runtime', `Task state ${stateName}: Parameters.Name must be a string`);
  const input = p.Input === undefined ? '{}' : typeof p.Input === 'string' ? p.Input : JSON.stringify(p.Input);
  return { stateMachineArn: p.StateMachineArn, input, name: p.Name };
}

/** A failed StartExecution call, as the optimized integration names it (`StepFunctions.ExecutionAlreadyExistsException`). */
export function startError(err: Error & { type?: string }): StatesError {
  const type = err.type ?? err.name;
  return new StatesError(`StepFunctions.${type.endsWith('Exception') ? type : `${type}Exception`}`, err.message);
}

/** What a fire-and-forget start returns. */
export function startedResult(child: ExecutionRecord): JsonObject {
  return { ExecutionArn: child.executionArn, StartDate: child.startDate };
}

/** DescribeExecution of the ended child: `.sync:2` has Input and Output as JSON, `.sync` as text. */
export function describeChild(child: ExecutionRecord, wait: Exclude<ExecutionWait, 'none'>): JsonObject {
  const data = (text: string | undefined): Json => (text === undefined ? null : wait === 'sync:2' ? (JSON.parse(text) as Json) : text);
  const out: JsonObject = {
    ExecutionArn: child.executionArn,
    StateMachineArn: child.stateMachineArn,
    Name: child.name,
    Status: child.status,
    StartDate: child.startDate,
    StopDate: child.stopDate ?? Date.now(),
    Input: data(child.input),
    InputDetails: { Included: true },
    RedriveCount: 0,
    RedriveStatus: 'NOT_REDRIVABLE',
  };
  if (child.status === 'SUCCEEDED') {
    out.Output = data(child.output);
    out.OutputDetails = { Included: true };
  }
  if (child.error !== undefined) out.Error = child.error;
  if (child.cause !== undefined) out.Cause = child.cause;
  return out;
}

/** A child that did not succeed fails the parent's task with States.TaskFailed; the Cause is its description. */
export function childFailed(child: ExecutionRecord, wait: Exclude<ExecutionWait, 'none'>): StatesError {
  return new StatesError('States.TaskFailed', JSON.stringify(describeChild(child, wait)));
}
