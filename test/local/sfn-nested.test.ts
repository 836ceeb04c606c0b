/**
 * Nested executions on the local Step Functions engine (`states:startExecution`, `.sync`, `.sync:2`), with
 * state machines and handlers defined here: the parent gets the child's description with its Output (JSON for
 * `.sync:2`, text for `.sync`), a failed child fails the task with States.TaskFailed, stopping the parent stops
 * the child, and a parent replayed after a restart waits for the child it started instead of starting another.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionArn, stateMachineArn } from '#local/aws-ids.ts';
import { LocalLambda } from '#local/lambda.ts';
import { SfnEngine, type LocalStateMachine } from '#local/sfn/engine.ts';

const ROLE = 'arn:aws:iam::000000000000:role/sfn';
const CHILD = stateMachineArn('child');

/** The child waits for a callback (like a review), or fails at once when its input says so. */
const child: LocalStateMachine = {
  arn: CHILD,
  name: 'child',
  roleArn: ROLE,
  definition: {
    StartAt: 'Fail?',
    States: {
      'Fail?': { Type: 'Choice', Choices: [{ Variable: '$.fail', BooleanEquals: true, Next: 'Broken' }], Default: 'Wait' },
      Broken: { Type: 'Fail', Error: 'Child.Broken', Cause: 'asked to fail' },
      Wait: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: functionArn('park'), Payload: { 'token.$': '$$.Task.Token', 'key.$': '$.key' } },
        End: true,
      },
    },
  },
};

const parent = (resource: string, extra: Record<string, unknown> = {}): LocalStateMachine => ({
  arn: stateMachineArn(`parent-${resource.split(':').slice(6).join('-').replaceAll('.', '-')}`),
  name: `parent-${resource.split(':').slice(6).join('-').replaceAll('.', '-')}`,
  roleArn: ROLE,
  definition: {
    StartAt: 'First',
    States: {
      First: { Type: 'Task', Resource: resource, Parameters: { StateMachineArn: CHILD, Input: { 'key.$': "States.Format('{}:First', $$.Execution.Name)", 'fail.$': '$.fail' } }, ResultPath: '$.first', Next: 'Second', ...extra },
      Second: { Type: 'Task', Resource: resource, Parameters: { StateMachineArn: CHILD, Input: { 'key.$': "States.Format('{}:Second', $$.Execution.Name)", fail: false } }, ResultPath: '$.second', End: true },
    },
  },
});

const sync2 = parent('arn:aws:states:::states:startExecution.sync:2', { Catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.error', Next: 'Caught' }] });
sync2.definition.States = { ...(sync2.definition.States as object), Caught: { Type: 'Pass', End: true } };
const sync1 = parent('arn:aws:states:::states:startExecution.sync');
const fireAndForget = parent('arn:aws:states:::states:startExecution');
const machines = [child, sync2, sync1, fireAndForget];

describe('nested executions on the local Step Functions engine', () => {
  /** Task tokens of waiting children, by the key their parent gave them (replays add newer tokens). */
  const parked = new Map<string, string>();
  const lambda = new LocalLambda([
    {
      name: 'park',
      handler: async (event) => {
        const e = event as { token: string; key: string };
        parked.set(e.key, e.token);
        return {};
      },
    },
  ]);
  let dir: string;
  let engine: SfnEngine;

  async function tokenFor(key: string, not?: string): Promise<string> {
    for (let i = 0; i < 1500; i++) {
      const token = parked.get(key);
      if (token && token !== not) return token;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`no child waiting for ${key}`);
  }

  const start = (machine: LocalStateMachine, name: string, input: unknown = { fail: false }) =>
    engine.startExecution({ stateMachineArn: machine.arn, name, input: JSON.stringify(input) }).executionArn;
  const children = () => engine.listExecutions({ stateMachineArn: CHILD, maxResults: 1000 }).executions;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hitl-nested-'));
    engine = new SfnEngine({ stateMachines: machines, lambda, executionsDir: join(dir, 'executions'), retryIntervalMs: 0 });
  });
  afterAll(async () => {
    await engine?.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('.sync:2 waits for each child and returns its description with the Output as JSON', async () => {
    const arn = start(sync2, 'two-steps');
    engine.sendTaskSuccess({ taskToken: await tokenFor('two-steps:First'), output: JSON.stringify({ outcome: 'approved', n: 1 }) });
    engine.sendTaskSuccess({ taskToken: await tokenFor('two-steps:Second'), output: JSON.stringify({ outcome: 'approved', n: 2 }) });
    const done = await engine.waitForExecution(arn, 60_000);
    expect(done.status).toBe('SUCCEEDED');
    const output = JSON.parse(done.output!) as { first: Record<string, unknown>; second: Record<string, unknown> };
    expect(output.first).toMatchObject({ Status: 'SUCCEEDED', StateMachineArn: CHILD, Output: { outcome: 'approved', n: 1 }, Input: { key: 'two-steps:First', fail: false } });
    expect(output.second).toMatchObject({ Status: 'SUCCEEDED', Output: { outcome: 'approved', n: 2 } });
    expect(output.first.ExecutionArn).not.toBe(output.second.ExecutionArn);
    expect(typeof output.first.StartDate).toBe('number');
    const types = engine.getExecutionHistory({ executionArn: arn }).events.map((e) => e.type);
    expect(types.filter((t) => t === 'TaskSubmitted')).toHaveLength(2);
    expect(types.filter((t) => t === 'TaskSucceeded')).toHaveLength(2);
  });

  it('.sync returns the Output as text; a fire-and-forget start returns at once with the child ARN', async () => {
    const arn = start(sync1, 'text');
    engine.sendTaskSuccess({ taskToken: await tokenFor('text:First'), output: '{"a":1}' });
    engine.sendTaskSuccess({ taskToken: await tokenFor('text:Second'), output: '{"b":2}' });
    const done = JSON.parse((await engine.waitForExecution(arn, 60_000)).output!) as { first: { Output: unknown; Input: unknown } };
    expect(done.first.Output).toBe('{"a":1}');
    expect(typeof done.first.Input).toBe('string');

    const quick = await engine.waitForExecution(start(fireAndForget, 'quick'), 60_000);
    const started = JSON.parse(quick.output!) as { first: { ExecutionArn: string; StartDate: number } };
    expect(quick.status).toBe('SUCCEEDED');
    expect(Object.keys(started.first).sort()).toEqual(['ExecutionArn', 'StartDate']);
    expect(engine.describeExecution(started.first.ExecutionArn).status).toBe('RUNNING');
  });

  it('a child that fails fails the task with States.TaskFailed, its description as the Cause', async () => {
    const done = await engine.waitForExecution(start(sync2, 'broken', { fail: true }), 60_000);
    expect(done.status).toBe('SUCCEEDED');
    const { error } = JSON.parse(done.output!) as { error: { Error: string; Cause: string } };
    expect(error.Error).toBe('States.TaskFailed');
    expect(JSON.parse(error.Cause)).toMatchObject({ Status: 'FAILED', Error: 'Child.Broken', Cause: 'asked to fail' });
  });

  it('stopping the parent stops the child it waits for', async () => {
    const arn = start(sync2, 'stopped');
    await tokenFor('stopped:First');
    const [waiting] = children().filter((c) => JSON.parse(c.input).key === 'stopped:First');
    await engine.stopExecution({ executionArn: arn, error: 'Operator.Cancelled' });
    const stoppedChild = await engine.waitForExecution(waiting!.executionArn, 10_000);
    expect(stoppedChild.status).toBe('ABORTED');
  });

  it('after a restart, the replayed parent waits for the child it started; the child resumes with a new token', async () => {
    const arn = start(sync2, 'survives');
    const oldToken = await tokenFor('survives:First');
    const before = children().length;
    await engine.shutdown();

    engine = new SfnEngine({ stateMachines: machines, lambda, executionsDir: join(dir, 'executions'), retryIntervalMs: 0 });
    const replayed = engine.resume();
    expect(replayed).toContain(arn);
    await engine.settled(replayed);
    // No second child: the parent found the one it had started.
    expect(children()).toHaveLength(before);
    engine.sendTaskSuccess({ taskToken: await tokenFor('survives:First', oldToken), output: '{"outcome":"approved"}' });
    engine.sendTaskSuccess({ taskToken: await tokenFor('survives:Second'), output: '{"outcome":"approved"}' });
    const done = await engine.waitForExecution(arn, 60_000);
    expect(done).toMatchObject({ status: 'SUCCEEDED', replays: 1 });
    expect(JSON.parse(done.output!)).toMatchObject({ first: { Output: { outcome: 'approved' } }, second: { Output: { outcome: 'approved' } } });
  });
});
