/**
 * kill -9 of the local stack with event deliveries outstanding: an event accepted by PutEvents whose target
 * is still running, and the ABORTED status change of an execution stopped just before the kill. After a
 * restart on the same state directory both reach the rule's target.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import { functionArn } from '#local/aws-ids.ts';
import { startBurst, trialExecutions } from '#local/trials/burst.ts';
import { checkExecutionsProceed } from '#local/trials/checks.ts';
import { startChildStack, type ChildStack } from '#local/trials/child-stack.ts';

interface Captured {
  id: string;
  source: string;
  detail: Record<string, unknown>;
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('kill -9 with event deliveries outstanding', () => {
  it('delivers after the restart what was accepted before the kill', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hitl-kill9-events-'));
    const stateDir = join(dir, 'state');
    const captureFile = join(dir, 'captured.jsonl');
    const captured = () => (existsSync(captureFile) ? readFileSync(captureFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Captured) : []);
    const target = [{ Arn: { 'Fn::GetAtt': ['CaptureFunction', 'Arn'] }, Id: 'Capture' }];
    const resources = join(dir, 'resources.json');
    writeFileSync(
      resources,
      JSON.stringify({
        CaptureFunction: {
          Type: 'AWS::Lambda::Function',
          Metadata: { 'hitl:handler': 'test/support/capture-events-handler.ts' },
          Properties: { Handler: 'index.handler', Timeout: 300, Environment: { Variables: { CAPTURE_FILE: captureFile } } },
        },
        ExecutionProblems: {
          Type: 'AWS::Events::Rule',
          Properties: { EventPattern: { source: ['aws.states'], detail: { status: ['ABORTED', 'FAILED', 'TIMED_OUT'] } }, Targets: target },
        },
        Held: { Type: 'AWS::Events::Rule', Properties: { EventPattern: { source: ['hitl.trial'] }, Targets: target } },
      }),
    );

    let child: ChildStack = await startChildStack({ stateDir, addResources: resources });
    try {
      const events = new EventBridgeClient({ endpoint: child.local.endpoints.events, region: child.local.region, credentials: child.local.credentials, maxAttempts: 1 });
      const put = await events.send(new PutEventsCommand({ Entries: [{ Source: 'hitl.trial', DetailType: 'Held', Detail: JSON.stringify({ hold: true }) }] }));
      events.destroy();
      const heldId = put.Entries![0]!.EventId!;
      await waitFor('the held delivery to start', () => (existsSync(`${captureFile}.held`) ? true : undefined));

      const [stopped] = trialExecutions(child, 'stopped', 1);
      expect((await startBurst(child, [stopped!], 1))[0]!.acknowledged).toBe(true);
      expect((await checkExecutionsProceed(child, [stopped!], [])).stuck).toEqual([]);
      await child.clients.sfn.send(new StopExecutionCommand({ executionArn: stopped!.executionArn, error: 'Trial.Stop' }));
      await child.kill('SIGKILL');
      expect(captured().filter((e) => e.id === heldId)).toEqual([]);

      child = await child.restart();
      const held = await waitFor('the held event', () => captured().find((e) => e.id === heldId));
      expect(held).toMatchObject({ source: 'hitl.trial', detail: { hold: true } });
      const aborted = await waitFor('the ABORTED event', () => captured().find((e) => e.source === 'aws.states' && e.detail.executionArn === stopped!.executionArn));
      expect(aborted.detail).toMatchObject({ status: 'ABORTED', error: 'Trial.Stop' });
      expect(child.local.functions.CaptureFunction!.arn).toBe(functionArn('CaptureFunction'));
    } catch (err) {
      console.log(child.output());
      throw err;
    } finally {
      await child.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
