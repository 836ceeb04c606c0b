/**
 * The local EventBridge Scheduler API on its own, with a manual clock: schedules fire when the clock reaches
 * them, failed deliveries are retried and then dead-lettered, and schedules survive a restart.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateScheduleCommand, DeleteScheduleCommand, GetScheduleCommand, ListSchedulesCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION, functionArn } from '#local/aws-ids.ts';
import { ManualClock } from '#local/clock.ts';
import { closeServer, listen, urlOf } from '#local/http.ts';
import { LocalLambda } from '#local/lambda.ts';
import { SchedulerEngine } from '#local/scheduler/engine.ts';
import { parseExpression } from '#local/scheduler/expression.ts';
import { createSchedulerServer } from '#local/scheduler/server.ts';
import { createRoundSchedule, scheduleName, type ScheduleSettings } from '#shared/schedules.ts';
import { errorName } from '../support/errors.ts';

const T0 = Date.parse('2026-03-02T10:00:00Z');

describe('local EventBridge Scheduler API', () => {
  const received: { at: number; event: unknown }[] = [];
  let failuresLeft = 0;
  const clock = new ManualClock(T0);
  const lambda = new LocalLambda([
    {
      name: 'expire',
      handler: async (event) => {
        received.push({ at: clock.now(), event });
        return { ok: true };
      },
    },
    {
      name: 'broken',
      handler: async () => {
        if (failuresLeft-- > 0) throw Object.assign(new Error('table unavailable'), { name: 'ServiceUnavailable' });
        return { ok: true };
      },
    },
  ]);
  let dir: string;
  let engine: SchedulerEngine;
  let server: Server;
  let scheduler: SchedulerClient;
  const settings: ScheduleSettings = {
    groupName: 'hitl',
    roleArn: 'arn:aws:iam::000000000000:role/scheduler',
    expireFunctionArn: functionArn('expire'),
    dlqArn: 'arn:aws:sqs:us-east-1:000000000000:hitl-dlq',
  };

  function newEngine() {
    return new SchedulerEngine({
      lambda,
      groups: ['hitl'],
      clock,
      stateFile: join(dir, 'schedules.json'),
      deadLetterFile: join(dir, 'schedule-dlq.json'),
      retryDelayMs: 0,
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hitl-scheduler-'));
    engine = newEngine();
    engine.resume();
    server = createSchedulerServer(engine);
    const port = await listen(server, 0, 'Scheduler API');
    scheduler = new SchedulerClient({ endpoint: urlOf(port), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  });

  afterAll(async () => {
    scheduler?.destroy();
    await engine?.shutdown();
    if (server) await closeServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads at() in the schedule time zone', () => {
    expect(parseExpression('at(2026-07-01T09:00:00)', 'Europe/London')).toEqual({ kind: 'at', at: Date.parse('2026-07-01T08:00:00Z') });
    expect(parseExpression('at(2026-01-15T09:00:00)', 'Europe/London')).toEqual({ kind: 'at', at: Date.parse('2026-01-15T09:00:00Z') });
    expect(parseExpression('at(2026-02-30T09:00:00)')).toBeUndefined();
    expect(parseExpression('rate(5 minutes)')).toEqual({ kind: 'rate', periodMs: 300_000 });
  });

  it('fires a one-time schedule when the clock reaches it, with the JSON input, then deletes it', async () => {
    const event = { action: 'expire', requestId: 'r-1', tier: 1, round: 1 } as const;
    expect(await createRoundSchedule(scheduler, settings, event, new Date(T0 + 30 * 60_000))).toBe('created');
    expect(await createRoundSchedule(scheduler, settings, event, new Date(T0 + 30 * 60_000))).toBe('exists');

    const got = await scheduler.send(new GetScheduleCommand({ Name: scheduleName('r-1', 1), GroupName: 'hitl' }));
    expect(got).toMatchObject({ ScheduleExpression: 'at(2026-03-02T10:30:00)', ActionAfterCompletion: 'DELETE', State: 'ENABLED' });
    expect(got.CreationDate!.getTime()).toBe(T0);

    await engine.advanceBy(29 * 60_000);
    expect(received).toHaveLength(0);
    await engine.advanceBy(60_000);
    expect(received).toEqual([{ at: T0 + 30 * 60_000, event }]);
    expect(await errorName(scheduler.send(new GetScheduleCommand({ Name: scheduleName('r-1', 1), GroupName: 'hitl' })))).toBe('ResourceNotFoundException');
  });

  it('answers bad calls with the Scheduler error names', async () => {
    const base = { FlexibleTimeWindow: { Mode: 'OFF' as const }, Target: { Arn: functionArn('expire'), RoleArn: settings.roleArn } };
    expect(await errorName(scheduler.send(new CreateScheduleCommand({ ...base, Name: 'x', GroupName: 'nope', ScheduleExpression: 'at(2026-03-02T11:00:00)' })))).toBe(
      'ResourceNotFoundException',
    );
    expect(await errorName(scheduler.send(new CreateScheduleCommand({ ...base, Name: 'x', GroupName: 'hitl', ScheduleExpression: 'at(tomorrow)' })))).toBe('ValidationException');
    expect(await errorName(scheduler.send(new DeleteScheduleCommand({ Name: 'missing', GroupName: 'hitl' })))).toBe('ResourceNotFoundException');
  });

  it('retries a failing target per its RetryPolicy, then dead-letters the event', async () => {
    failuresLeft = 10;
    await scheduler.send(
      new CreateScheduleCommand({
        Name: 'doomed',
        GroupName: 'hitl',
        ScheduleExpression: 'at(2026-03-02T10:45:00)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: { Arn: functionArn('broken'), RoleArn: settings.roleArn, Input: '{"n":1}', RetryPolicy: { MaximumRetryAttempts: 2 }, DeadLetterConfig: { Arn: settings.dlqArn } },
      }),
    );
    await engine.advanceTo(Date.parse('2026-03-02T10:45:00Z'));
    expect(failuresLeft).toBe(7);
    expect(engine.deadLetters()).toEqual([
      expect.objectContaining({ targetArn: functionArn('broken'), deadLetterArn: settings.dlqArn, errorCode: 'ServiceUnavailable', retryAttempts: 2, input: '{"n":1}' }),
    ]);
    expect(JSON.parse(readFileSync(join(dir, 'schedule-dlq.json'), 'utf8'))).toHaveLength(1);

    failuresLeft = 1;
    await scheduler.send(
      new CreateScheduleCommand({
        Name: 'recovers',
        GroupName: 'hitl',
        ScheduleExpression: 'at(2026-03-02T10:50:00)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: { Arn: functionArn('broken'), RoleArn: settings.roleArn, RetryPolicy: { MaximumRetryAttempts: 2 } },
      }),
    );
    await engine.advanceTo(Date.parse('2026-03-02T10:50:00Z'));
    expect(engine.deadLetters()).toHaveLength(1);
  });

  it('keeps schedules across a restart; one that came due while stopped fires at once', async () => {
    const event = { action: 'renotify', requestId: 'r-2', tier: 1, round: 2 } as const;
    await createRoundSchedule(scheduler, settings, event, new Date(clock.now() + 60 * 60_000));
    expect((await scheduler.send(new ListSchedulesCommand({ GroupName: 'hitl', NamePrefix: 'hitl-r-2' }))).Schedules!.map((s) => s.Name)).toEqual([scheduleName('r-2', 2)]);
    await engine.shutdown();

    clock.advance(2 * 60 * 60_000);
    const restarted = newEngine();
    try {
      restarted.resume();
      expect(restarted.getSchedule(scheduleName('r-2', 2), 'hitl').Target.Input).toBe(JSON.stringify(event));
      await restarted.runDue();
      expect(received.at(-1)).toEqual({ at: clock.now(), event });
      expect(restarted.listSchedules({ GroupName: 'hitl' }).Schedules).toHaveLength(0);
    } finally {
      await restarted.shutdown();
    }
  });
});
