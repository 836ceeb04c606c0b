/**
 * Event rules in the stack's template reach their Lambda targets on the local stack. The template gets the
 * rule the CDK app is about to have (problems of the review state machine → a function), written as CDK
 * writes it (Ref to the state machine, Fn::GetAtt of the function's Arn), plus a rule for the `hitl.test`
 * events the target itself sends through the EventBridge SDK.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_REQUEST } from '#local/demo-agent.ts';
import type { Template } from '#local/template.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';

interface Captured {
  id: string;
  source: string;
  'detail-type': string;
  resources: string[];
  detail: Record<string, unknown>;
}

const captureDir = mkdtempSync(join(tmpdir(), 'hitl-capture-'));
const captureFile = join(captureDir, 'events.jsonl');

function addRules(template: Template): void {
  const stateMachine = Object.entries(template.Resources).find(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine')![0];
  template.Resources.CaptureFunction = {
    Type: 'AWS::Lambda::Function',
    Metadata: { 'hitl:handler': 'test/support/capture-events-handler.ts' },
    Properties: { Handler: 'index.handler', Timeout: 10, Environment: { Variables: { CAPTURE_FILE: captureFile } } },
  };
  template.Resources.ExecutionProblems = {
    Type: 'AWS::Events::Rule',
    Properties: {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { status: ['ABORTED', 'FAILED', 'TIMED_OUT'], stateMachineArn: [{ Ref: stateMachine }] },
      },
      State: 'ENABLED',
      Targets: [{ Arn: { 'Fn::GetAtt': ['CaptureFunction', 'Arn'] }, Id: 'Target0' }],
    },
  };
  template.Resources.Echoes = {
    Type: 'AWS::Events::Rule',
    Properties: { EventPattern: { source: ['hitl.test'] }, State: 'ENABLED', Targets: [{ Arn: { 'Fn::GetAtt': ['CaptureFunction', 'Arn'] }, Id: 'Target0' }] },
  };
}

function captured(): Captured[] {
  if (!existsSync(captureFile)) return [];
  return readFileSync(captureFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Captured);
}

async function waitForCaptured(match: (e: Captured) => boolean, timeoutMs = 30_000): Promise<Captured> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = captured().find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for a captured event; have ${JSON.stringify(captured().map((e) => [e.source, e.detail.status]))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('event rules of the template on the local stack', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ amendTemplate: addRules });
  });

  afterAll(async () => {
    await stack?.stop();
    rmSync(captureDir, { recursive: true, force: true });
  });

  async function start(name: string, input: unknown): Promise<string> {
    const out = await stack.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: stack.stateMachineArn, name, input: JSON.stringify(input) }));
    return out.executionArn!;
  }

  it('points functions and clients at the local EventBridge', () => {
    expect(stack.clientEnv.AWS_ENDPOINT_URL_EVENTBRIDGE).toBe(stack.endpoints.events);
    expect(JSON.parse(readFileSync(join(stack.stateDir, 'local.json'), 'utf8')).env.AWS_ENDPOINT_URL_EVENTBRIDGE).toBe(stack.endpoints.events);
    // The stack's own rules (an ended execution cancels its request; a decision event runs the conclude function) and the two this test adds.
    const rules = stack.resources.eventRules.map((r) => r.logicalId).sort();
    const own = (id: string) => id.startsWith('ExecutionEnded') || id.startsWith('NoticesRule');
    expect(rules.filter((id) => !own(id))).toEqual(['Echoes', 'ExecutionProblems']);
    expect(rules.filter((id) => id.startsWith('ExecutionEnded'))).toHaveLength(1);
    expect(rules.filter((id) => id.startsWith('NoticesRule'))).toHaveLength(1);
  });

  it('StopExecution of a waiting review invokes the rule target with the ABORTED status change', async () => {
    const executionArn = await start('stopped-review', DEMO_REQUEST);
    await stack.waitForEmails((e) => e.destination.to.includes('lead@example.com'));
    await stack.clients.sfn.send(new StopExecutionCommand({ executionArn, error: 'Agent.Cancelled', cause: 'the customer withdrew' }));

    const event = await waitForCaptured((e) => e.source === 'aws.states' && e.detail.executionArn === executionArn);
    expect(event).toMatchObject({
      'detail-type': 'Step Functions Execution Status Change',
      resources: [executionArn],
      detail: { status: 'ABORTED', stateMachineArn: stack.stateMachineArn, name: 'stopped-review', error: 'Agent.Cancelled', cause: 'the customer withdrew', output: null },
    });
    expect(JSON.parse(event.detail.input as string)).toEqual(DEMO_REQUEST);
    expect(event.detail.stopDate).toBeGreaterThanOrEqual(event.detail.startDate as number);
    // The target's own PutEvents went through the local EventBridge and reached the second rule.
    await waitForCaptured((e) => e.source === 'hitl.test' && e.detail.executionArn === executionArn && e.detail.status === 'ABORTED');
  });

  it('a failed execution reaches the target too; one that succeeds does not', async () => {
    const failed = await start('invalid-request', { ...DEMO_REQUEST, reviewerGroup: 'Not A Group' });
    const event = await waitForCaptured((e) => e.source === 'aws.states' && e.detail.executionArn === failed);
    expect(event.detail).toMatchObject({ status: 'FAILED', error: 'InvalidRequestError' });

    const approved = await start('approved-review', { ...DEMO_REQUEST, action: { name: 'refund', args: { order_id: 'O-2', amount_usd: 5 } } });
    const [email] = await stack.waitForEmails((e) => e.destination.to.includes('lead@example.com') && e.subject === 'Refund $5 O-2 · irreversible · customer-support-agent');
    expect((await stack.submit(stack.reviewLinks(email!)[0]!, { choice: 'approve', round: '1' })).status).toBe(200);
    expect((await stack.waitForExecution(approved)).status).toBe('SUCCEEDED');
    await stack.events.settled();
    expect(captured().filter((e) => e.detail.executionArn === approved)).toEqual([]);
  });

  it('a restart delivers nothing twice', async () => {
    const before = captured().length;
    stack = await stack.restart();
    await stack.events.settled();
    await new Promise((r) => setTimeout(r, 200));
    expect(captured()).toHaveLength(before);
  });
});
