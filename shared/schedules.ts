/**
 * One-time EventBridge Scheduler schedules that end a request's time box, and its next reminder. One
 * schedule per round (and one per reminder of it, the next one only), named after it, so creating it twice
 * is harmless and an old round's schedule can be deleted by name.
 */
import {
  ConflictException,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import type { ExpireEvent } from './schemas/events.ts';

export interface ScheduleSettings {
  /** Schedule group the stack created for this deployment. */
  groupName: string;
  /** Role the Scheduler assumes to invoke the expire function. */
  roleArn: string;
  expireFunctionArn: string;
  /** Where the Scheduler puts events it could not deliver. */
  dlqArn: string;
}

export type ScheduledEvent = Extract<ExpireEvent, { round: number }>;

export function scheduleName(requestId: string, round: number): string {
  return `hitl-${requestId}-r${round}`;
}

/** A round's schedule by its event: the time box's end, or its n-th reminder (`…-r1-m2`). */
function scheduleNameOf(event: ScheduledEvent): string {
  return event.action === 'remind' ? `${scheduleName(event.requestId, event.round)}-m${event.reminder}` : scheduleName(event.requestId, event.round);
}

/** `at(yyyy-mm-ddThh:mm:ss)` in UTC; the Scheduler takes whole seconds. */
export function atExpression(at: Date): string {
  return `at(${at.toISOString().slice(0, 19)})`;
}

/** Create the schedule that fires `event` at `at`. An existing schedule of the same name is the same round: fine. */
export async function createRoundSchedule(client: SchedulerClient, settings: ScheduleSettings, event: ScheduledEvent, at: Date): Promise<'created' | 'exists'> {
  try {
    await client.send(
      new CreateScheduleCommand({
        Name: scheduleNameOf(event),
        GroupName: settings.groupName,
        Description: `${event.action} review request ${event.requestId}, round ${event.round}${event.action === 'remind' ? `, reminder ${event.reminder}` : ''}`,
        ScheduleExpression: atExpression(at),
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        State: 'ENABLED',
        Target: {
          Arn: settings.expireFunctionArn,
          RoleArn: settings.roleArn,
          Input: JSON.stringify(event),
          RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
          DeadLetterConfig: { Arn: settings.dlqArn },
        },
      }),
    );
    return 'created';
  } catch (err) {
    if (err instanceof ConflictException || (err as { name?: string }).name === 'ConflictException') return 'exists';
    throw err;
  }
}

/** Delete a round's schedule; already gone (fired and auto-deleted, or never made) is fine. */
export async function deleteRoundSchedule(client: SchedulerClient, settings: ScheduleSettings, requestId: string, round: number): Promise<void> {
  try {
    await client.send(new DeleteScheduleCommand({ Name: scheduleName(requestId, round), GroupName: settings.groupName }));
  } catch (err) {
    if (err instanceof ResourceNotFoundException || (err as { name?: string }).name === 'ResourceNotFoundException') return;
    throw err;
  }
}
