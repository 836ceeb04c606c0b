/**
 * The local Step Functions API on its own: a small state machine of our own, handlers defined here, and the
 * real @aws-sdk/client-sfn talking JSON 1.0 to the server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION, functionArn, stateMachineArn } from '#local/aws-ids.ts';
import { closeServer, listen, urlOf } from '#local/http.ts';
import { LocalLambda } from '#local/lambda.ts';
import { SfnEngine, type LocalStateMachine } from '#local/sfn/engine.ts';
import { createSfnServer } from '#local/sfn/server.ts';
import { InvalidRequestError } from '#shared/errors.ts';
import { errorName } from '../support/errors.ts';

interface Captured {
  token: string;
  executionArn: string;
  startedAt: string;
}

const definition = (waitTimeoutSeconds?: number) => ({
  StartAt: 'Route',
  States: {
    Route: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: functionArn('route'), 'Payload.$': '$' },
      OutputPath: '$.Payload',
      Retry: [{ ErrorEquals: ['FlakyError'], IntervalSeconds: 30, MaxAttempts: 2 }],
      Next: 'Review',
    },
    Review: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
      Parameters: {
        FunctionName: functionArn('request'),
        Payload: { 'taskToken.$': '$$.Task.Token', 'request.$': '$', 'executionArn.$': '$$.Execution.Id', 'startedAt.$': '$$.Execution.StartTime' },
      },
      ...(waitTimeoutSeconds ? { TimeoutSeconds: waitTimeoutSeconds } : {}),
      Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.timeout', Next: 'TimedOut' }],
      End: true,
    },
    TimedOut: { Type: 'Pass', Parameters: { outcome: 'expired', 'error.$': '$.timeout.Error' }, End: true },
  },
});

const machines: LocalStateMachine[] = [
  { arn: stateMachineArn('review'), name: 'review', definition: definition(), roleArn: 'arn:aws:iam::000000000000:role/sfn' },
  { arn: stateMachineArn('quick'), name: 'quick', definition: definition(1), roleArn: 'arn:aws:iam::000000000000:role/sfn' },
];

describe('local Step Functions API', () => {
  const captured = new Map<string, Captured[]>();
  let flaky = 0;
  const lambda = new LocalLambda([
    {
      name: 'route',
      handler: async (event) => {
        const input = event as { mode?: string };
        if (input.mode === 'invalid') throw new InvalidRequestError('Invalid ReviewRequest: agent: Required', [{ path: 'agent', message: 'Required' }]);
        if (input.mode === 'flaky' && flaky++ === 0) throw Object.assign(new Error('try again'), { name: 'FlakyError' });
        return { ...input, routed: true };
      },
    },
    {
      name: 'request',
      handler: async (event) => {
        const e = event as { taskToken: string; executionArn: string; startedAt: string };
        captured.set(e.executionArn, [...(captured.get(e.executionArn) ?? []), { token: e.taskToken, executionArn: e.executionArn, startedAt: e.startedAt }]);
        return { notified: true };
      },
    },
  ]);
  let dir: string;
  let engine: SfnEngine;
  let server: Server;
  let sfn: SFNClient;

  async function tokenOf(executionArn: string, index = 0): Promise<string> {
    for (let i = 0; i < 250; i++) {
      const token = captured.get(executionArn)?.[index]?.token;
      if (token) return token;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no task token for ${executionArn}`);
  }

  async function finished(executionArn: string) {
    for (let i = 0; i < 250; i++) {
      const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
      if (out.status !== 'RUNNING') return out;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`${executionArn} still running`);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hitl-sfn-'));
    engine = new SfnEngine({ stateMachines: machines, lambda, executionsDir: join(dir, 'executions'), retryIntervalMs: 0 });
    server = createSfnServer(engine);
    const port = await listen(server, 0, 'Step Functions API');
    sfn = new SFNClient({ endpoint: urlOf(port), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  });

  afterAll(async () => {
    sfn?.destroy();
    await engine?.shutdown();
    if (server) await closeServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('pauses on waitForTaskToken and succeeds with the SendTaskSuccess output', async () => {
    const { executionArn, startDate } = await sfn.send(new StartExecutionCommand({ stateMachineArn: machines[0]!.arn, name: 'ok-1', input: JSON.stringify({ mode: 'ok' }) }));
    expect(executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:review:ok-1');
    const token = await tokenOf(executionArn!);
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');
    expect(captured.get(executionArn!)![0]!.startedAt).toBe(startDate!.toISOString());

    await sfn.send(new SendTaskHeartbeatCommand({ taskToken: token }));
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ outcome: 'approved' }) }));
    const done = await finished(executionArn!);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toEqual({ outcome: 'approved' });

    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn }));
    const types = history.events!.map((e) => e.type);
    expect(types[0]).toBe('ExecutionStarted');
    expect(types).toEqual(expect.arrayContaining(['TaskStateEntered', 'TaskScheduled', 'TaskSubmitted', 'TaskSucceeded', 'TaskStateExited']));
    expect(types.at(-1)).toBe('ExecutionSucceeded');
    expect(types.indexOf('TaskStateEntered')).toBeLessThan(types.indexOf('TaskScheduled'));
    expect(history.events!.map((e) => e.id)).toEqual(history.events!.map((_, i) => i + 1));

    // The task is closed now: the token is known but no longer open.
    expect(await errorName(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })))).toBe('TaskTimedOut');
  });

  it('fails the execution with the handler error name (the Catch contract)', async () => {
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: machines[0]!.arn, input: JSON.stringify({ mode: 'invalid' }) }));
    const done = await finished(executionArn!);
    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('InvalidRequestError');
    expect(JSON.parse(done.cause!)).toMatchObject({ errorType: 'InvalidRequestError', errorMessage: 'Invalid ReviewRequest: agent: Required' });
  });

  it('retries per the Retry field, with the test interval override instead of 30 s', async () => {
    const started = Date.now();
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: machines[0]!.arn, input: JSON.stringify({ mode: 'flaky' }) }));
    await tokenOf(executionArn!);
    expect(flaky).toBe(2);
    expect(Date.now() - started).toBeLessThan(10_000);
    await sfn.send(new StopExecutionCommand({ executionArn, error: 'Test.Done', cause: 'enough' }));
  });

  it('fails a task on SendTaskFailure with the given error', async () => {
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: machines[0]!.arn, input: '{}' }));
    await sfn.send(new SendTaskFailureCommand({ taskToken: await tokenOf(executionArn!), error: 'ReviewerUnavailable', cause: 'nobody home' }));
    const done = await finished(executionArn!);
    expect(done).toMatchObject({ status: 'FAILED', error: 'ReviewerUnavailable', cause: 'nobody home' });
  });

  it('honours TimeoutSeconds on the callback task: States.Timeout goes to the Catch, the token is closed', async () => {
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: machines[1]!.arn, input: '{}' }));
    const token = await tokenOf(executionArn!);
    const done = await finished(executionArn!);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toEqual({ outcome: 'expired', error: 'States.Timeout' });
    const types = (await sfn.send(new GetExecutionHistoryCommand({ executionArn }))).events!.map((e) => e.type);
    expect(types).toContain('TaskTimedOut');
    expect(await errorName(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })))).toBe('TaskTimedOut');
  });

  it('stops an execution; its task can no longer be completed', async () => {
    const { executionArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: machines[0]!.arn, input: '{}' }));
    const token = await tokenOf(executionArn!);
    await sfn.send(new StopExecutionCommand({ executionArn, error: 'Operator.Cancelled', cause: 'not needed' }));
    expect(await sfn.send(new DescribeExecutionCommand({ executionArn }))).toMatchObject({ status: 'ABORTED', error: 'Operator.Cancelled' });
    expect(await errorName(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })))).toBe('TaskTimedOut');
  });

  it('answers bad calls with the error names AWS uses', async () => {
    const arn = machines[0]!.arn;
    expect(await errorName(sfn.send(new SendTaskSuccessCommand({ taskToken: 'not-a-token', output: '{}' })))).toBe('InvalidToken');
    expect(await errorName(sfn.send(new StartExecutionCommand({ stateMachineArn: arn, input: '{not json' })))).toBe('InvalidExecutionInput');
    expect(await errorName(sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'has space' })))).toBe('InvalidName');
    expect(await errorName(sfn.send(new StartExecutionCommand({ stateMachineArn: stateMachineArn('nope') })))).toBe('StateMachineDoesNotExist');
    expect(await errorName(sfn.send(new DescribeExecutionCommand({ executionArn: `${arn.replace(':stateMachine:', ':execution:')}:missing` })))).toBe('ExecutionDoesNotExist');
    expect(await errorName(sfn.send(new DescribeExecutionCommand({ executionArn: 'arn:nope' })))).toBe('InvalidArn');

    const first = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'dup', input: '{"a":1}' }));
    const again = await sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'dup', input: '{"a":1}' }));
    expect(again.executionArn).toBe(first.executionArn);
    expect(await errorName(sfn.send(new StartExecutionCommand({ stateMachineArn: arn, name: 'dup', input: '{"a":2}' })))).toBe('ExecutionAlreadyExists');
    await tokenOf(first.executionArn!);
    await sfn.send(new StopExecutionCommand({ executionArn: first.executionArn }));
  });

  it('answers SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat for unknown, finished, timed-out and stopped tasks as AWS documents', async () => {
    // TaskTimedOut: "the task token has either expired or the task associated with the token has already been closed";
    // InvalidToken: a token Step Functions never issued. (TaskDoesNotExist is an activity's: "the activity does not exist".)
    const answers = (taskToken: string) =>
      Promise.all([
        errorName(sfn.send(new SendTaskSuccessCommand({ taskToken, output: '{}' }))),
        errorName(sfn.send(new SendTaskFailureCommand({ taskToken, error: 'E', cause: 'c' }))),
        errorName(sfn.send(new SendTaskHeartbeatCommand({ taskToken }))),
      ]);
    expect(await answers('not-a-token')).toEqual(['InvalidToken', 'InvalidToken', 'InvalidToken']);

    const input = JSON.stringify({ case: 'finished' });
    const { executionArn: finishedArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: machines[0]!.arn, name: 'contract-finished', input }));
    const finishedToken = await tokenOf(finishedArn!);
    // Output that is not JSON: InvalidOutput, and the task stays open.
    expect(await errorName(sfn.send(new SendTaskSuccessCommand({ taskToken: finishedToken, output: '{not json' })))).toBe('InvalidOutput');
    await sfn.send(new SendTaskHeartbeatCommand({ taskToken: finishedToken }));
    await sfn.send(new SendTaskSuccessCommand({ taskToken: finishedToken, output: '{}' }));
    expect((await finished(finishedArn!)).status).toBe('SUCCEEDED');
    expect(await answers(finishedToken)).toEqual(['TaskTimedOut', 'TaskTimedOut', 'TaskTimedOut']);
    // A closed execution's name is taken, even for the same input (only a running one answers idempotently).
    expect(await errorName(sfn.send(new StartExecutionCommand({ stateMachineArn: machines[0]!.arn, name: 'contract-finished', input })))).toBe('ExecutionAlreadyExists');

    const { executionArn: timedOutArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: machines[1]!.arn, input: '{}' }));
    const timedOutToken = await tokenOf(timedOutArn!);
    await finished(timedOutArn!);
    expect(await answers(timedOutToken)).toEqual(['TaskTimedOut', 'TaskTimedOut', 'TaskTimedOut']);

    const { executionArn: stoppedArn } = await sfn.send(new StartExecutionCommand({ stateMachineArn: machines[0]!.arn, input: '{}' }));
    const stoppedToken = await tokenOf(stoppedArn!);
    await sfn.send(new StopExecutionCommand({ executionArn: stoppedArn }));
    expect(await answers(stoppedToken)).toEqual(['TaskTimedOut', 'TaskTimedOut', 'TaskTimedOut']);
  });

  it('lists executions newest first, with a status filter and pages', async () => {
    const all = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machines[0]!.arn }));
    expect(all.executions!.length).toBeGreaterThanOrEqual(5);
    const dates = all.executions!.map((e) => e.startDate!.getTime());
    expect([...dates].sort((a, b) => b - a)).toEqual(dates);
    const failed = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machines[0]!.arn, statusFilter: 'FAILED' }));
    expect(failed.executions!.every((e) => e.status === 'FAILED')).toBe(true);
    expect(failed.executions!.length).toBe(2);
    const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machines[0]!.arn, maxResults: 2 }));
    expect(page.executions).toHaveLength(2);
    const next = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machines[0]!.arn, maxResults: 2, nextToken: page.nextToken }));
    expect(next.executions![0]!.executionArn).toBe(all.executions![2]!.executionArn);
  });

  it('replays a waiting execution after a restart under the same ARN, with a fresh token', async () => {
    const { executionArn, startDate } = await sfn.send(new StartExecutionCommand({ stateMachineArn: machines[0]!.arn, name: 'survives', input: '{"mode":"ok"}' }));
    const oldToken = await tokenOf(executionArn!);
    await engine.shutdown();

    const restarted = new SfnEngine({ stateMachines: machines, lambda, executionsDir: join(dir, 'executions'), retryIntervalMs: 0 });
    try {
      expect(restarted.resume()).toEqual([executionArn]);
      await restarted.settled([executionArn!]);
      const replay = captured.get(executionArn!)![1]!;
      expect(replay.executionArn).toBe(executionArn);
      expect(replay.token).not.toBe(oldToken);
      // $$.Execution.StartTime keeps its meaning: when the execution started, not when it was replayed.
      expect(replay.startedAt).toBe(startDate!.toISOString());
      expect(() => restarted.sendTaskSuccess({ taskToken: oldToken, output: '{}' })).toThrow(expect.objectContaining({ name: 'InvalidToken' }));
      restarted.sendTaskSuccess({ taskToken: replay.token, output: '{"outcome":"approved"}' });
      const record = await restarted.waitForExecution(executionArn!);
      expect(record).toMatchObject({ status: 'SUCCEEDED', output: '{"outcome":"approved"}', replays: 1, startDate: startDate!.getTime() });
      // Closed executions come back as they were.
      expect(restarted.describeExecution(machines[0]!.arn.replace(':stateMachine:', ':execution:') + ':ok-1').status).toBe('SUCCEEDED');
    } finally {
      await restarted.shutdown();
    }
  });
});
