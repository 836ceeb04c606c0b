/**
 * Inputs nested thousands of levels deep must not take the local stack down, neither while they run nor
 * when a restart replays them. The stack runs as a child process, so a crash shows as a dead child (and a
 * restart that never comes up), not as a dead test runner.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeExecutionCommand, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { startBurst, trialExecutions, trialRequest } from '#local/trials/burst.ts';
import { checkExecutionsProceed } from '#local/trials/checks.ts';
import { startChildStack, type ChildStack } from '#local/trials/child-stack.ts';

/** A review request whose arguments hold `value` (JSON text), built as text: too deep for JSON.stringify. */
function requestWith(key: string, value: string): string {
  return JSON.stringify({ ...trialRequest(key), action: { name: 'refund', args: { nested: '@' } } }).replace('"@"', value);
}

const objects = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const arrays = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;

const INPUTS: [string, string][] = [
  // dynalite (the DynamoDB stand-in before DynamoDB Local) overflowed on this one inside its request handler: the process died.
  ['objects-1000', objects(1_000)],
  ['objects-2000', objects(2_000)],
  ['arrays-5000', arrays(5_000)],
  // About as deep as 256 KB of input can be.
  ['arrays-120000', arrays(120_000)],
];

async function closed(child: ChildStack, executionArn: string): Promise<string | undefined> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const out = await child.clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (out.status !== 'RUNNING' || Date.now() > deadline) return out.status;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('deeply nested input', () => {
  it('runs, is replayed after kill -9, and the stack keeps serving', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'hitl-deep-'));
    let child = await startChildStack({ stateDir });
    try {
      const arns: string[] = [];
      for (const [name, value] of INPUTS) {
        const out = await child.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: child.stateMachineArn, name, input: requestWith(name, value) }));
        arns.push(out.executionArn!);
      }
      // Killed while they run: the restart replays those still running.
      await child.kill('SIGKILL');
      child = await child.restart();
      for (const arn of arns) expect(await closed(child, arn)).not.toBe('RUNNING');

      // Still serving: an ordinary request opens its review, and a second kill and restart come up too.
      const [ordinary] = trialExecutions(child, 'after-deep', 1);
      expect((await startBurst(child, [ordinary!], 1))[0]!.acknowledged).toBe(true);
      expect((await checkExecutionsProceed(child, [ordinary!], [])).stuck).toEqual([]);
      await child.kill('SIGKILL');
      child = await child.restart();
      const again = await child.clients.sfn.send(new DescribeExecutionCommand({ executionArn: arns[0] }));
      expect(again.input).toBe(requestWith(INPUTS[0]![0], INPUTS[0]![1]));
    } catch (err) {
      console.log(child.output());
      throw err;
    } finally {
      await child.stop();
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 240_000);
});
