/**
 * kill -9 right after the local services acknowledge changes: StopExecution, SendTaskSuccess,
 * SendTaskFailure, CreateSchedule, DeleteSchedule and a StartExecution with a 250 KB input, all answered
 * moments before the SIGKILL. After a restart on the same state directory, the state is what was
 * acknowledged.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateScheduleCommand, DeleteScheduleCommand, GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { DescribeExecutionCommand, SendTaskFailureCommand, SendTaskSuccessCommand, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { openRequests } from '#local/bench/workload.ts';
import { startBurst, trialExecutions, trialRequest } from '#local/trials/burst.ts';
import { checkExecutionsProceed } from '#local/trials/checks.ts';
import { startChildStack, type ChildStack } from '#local/trials/child-stack.ts';
import { errorName } from '../support/errors.ts';

function schedulerOf(child: ChildStack): SchedulerClient {
  return new SchedulerClient({ endpoint: child.local.endpoints.scheduler, region: child.local.region, credentials: child.local.credentials, maxAttempts: 1 });
}

async function finished(child: ChildStack, executionArn: string) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const out = await child.clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (out.status !== 'RUNNING' || Date.now() > deadline) return out;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('kill -9 right after acknowledged changes', () => {
  it('keeps every acknowledged change across the restart', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'hitl-kill9-changes-'));
    let child = await startChildStack({ stateDir });
    try {
      const [stopped, approved, failed] = trialExecutions(child, 'change', 3);
      expect((await startBurst(child, [stopped!, approved!, failed!], 3)).every((o) => o.acknowledged)).toBe(true);
      expect((await checkExecutionsProceed(child, [stopped!, approved!, failed!], [])).stuck).toEqual([]);
      const tokens = new Map((await openRequests(child)).map((r) => [r.executionArn, r.taskToken!]));

      let scheduler = schedulerOf(child);
      const schedule = (name: string) => ({
        Name: name,
        GroupName: child.local.scheduleGroup,
        ScheduleExpression: 'at(2099-01-01T00:00:00)',
        FlexibleTimeWindow: { Mode: 'OFF' as const },
        Target: { Arn: child.local.functions[Object.keys(child.local.functions).find((f) => f.includes('Expire'))!]!.arn, RoleArn: 'arn:aws:iam::000000000000:role/scheduler', Input: '{}' },
      });
      await scheduler.send(new CreateScheduleCommand(schedule('kept')));
      await scheduler.send(new CreateScheduleCommand(schedule('deleted')));

      // 250 KB of arguments: within Step Functions' 256 KB input limit.
      const request = trialRequest('big');
      const base = JSON.stringify(request).length;
      const bigInput = JSON.stringify({ ...request, action: { name: 'refund', args: { ...(request as { action: { args: object } }).action.args, note: 'x'.repeat(250 * 1024 - base - 20) } } });
      const output = JSON.stringify({ outcome: 'approved', by: 'kill9-changes' });

      // All answered, then killed at once: nothing has had time to be written later.
      await Promise.all([
        child.clients.sfn.send(new StopExecutionCommand({ executionArn: stopped!.executionArn, error: 'Trial.Stop', cause: 'stopped before the kill' })),
        child.clients.sfn.send(new SendTaskSuccessCommand({ taskToken: tokens.get(approved!.executionArn), output })),
        child.clients.sfn.send(new SendTaskFailureCommand({ taskToken: tokens.get(failed!.executionArn), error: 'Trial.Failure', cause: 'failed before the kill' })),
        scheduler.send(new DeleteScheduleCommand({ Name: 'deleted', GroupName: child.local.scheduleGroup })),
        child.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: child.stateMachineArn, name: 'big', input: bigInput })),
      ]);
      await child.kill('SIGKILL');
      scheduler.destroy();

      child = await child.restart();
      scheduler = schedulerOf(child);
      expect(await child.clients.sfn.send(new DescribeExecutionCommand({ executionArn: stopped!.executionArn }))).toMatchObject({ status: 'ABORTED', error: 'Trial.Stop' });
      // The acknowledged task result was kept: the execution moved past the task, and its Settle step refused
      // the made-up payload (it is not a stored Decision), as it refuses any forged resume.
      expect(await finished(child, approved!.executionArn)).toMatchObject({ status: 'FAILED', error: 'ForgedDecisionError' });
      expect(await finished(child, failed!.executionArn)).toMatchObject({ status: 'FAILED', error: 'Trial.Failure', cause: 'failed before the kill' });
      expect((await scheduler.send(new GetScheduleCommand({ Name: 'kept', GroupName: child.local.scheduleGroup }))).Name).toBe('kept');
      expect(await errorName(scheduler.send(new GetScheduleCommand({ Name: 'deleted', GroupName: child.local.scheduleGroup })))).toBe('ResourceNotFoundException');
      const big = await child.clients.sfn.send(new DescribeExecutionCommand({ executionArn: stopped!.executionArn.replace(/:[^:]+$/, ':big') }));
      expect(big.input).toBe(bigInput);
      scheduler.destroy();
    } catch (err) {
      console.log(child.output());
      throw err;
    } finally {
      await child.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 240_000);
});
