/**
 * The HumanReview step and the refund-workflow example that uses it: each step runs the review state
 * machine as a nested execution and waits (`startExecution.sync:2`), sends a ReviewRequest with nothing
 * added, and has its own idempotency key (parent execution name + step id); bad props fail with the fix.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import { RefundWorkflowStack } from '../../examples/refund-workflow/stack.ts';
import { HumanReview } from '#infra/constructs/human-review.ts';

const REVIEW_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:Hitl-review';

/** The definition with CloudFormation functions rendered as placeholders. */
function definitionOf(template: Template): { States: Record<string, Record<string, unknown>> } {
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const body = (machine!.Properties as { DefinitionString: unknown }).DefinitionString;
  const text = typeof body === 'string' ? body : ((body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : '<ref>')).join(''));
  return JSON.parse(text);
}

describe('HumanReview step (examples/refund-workflow)', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new RefundWorkflowStack(app, 'RefundWorkflow', { reviewStateMachineArn: REVIEW_ARN });
  const template = Template.fromStack(stack);
  const states = definitionOf(template).States;

  it('runs the review state machine as a nested execution and waits for its Decision, once per step', () => {
    const reviews = Object.entries(states).filter(([, s]) => String(s.Resource).endsWith(':states:startExecution.sync:2'));
    expect(reviews.map(([name]) => name).sort()).toEqual(['ApproveRefund', 'VerifyEmail'].map((id) => expect.stringContaining(id)));
    for (const [, s] of reviews) {
      const params = s.Parameters as { StateMachineArn: string; Input: Record<string, unknown> };
      expect(params.StateMachineArn).toBe(REVIEW_ARN);
      expect(Object.keys(params.Input)).not.toContain('AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID');
      expect(s.ResultSelector).toEqual({ 'decision.$': '$.Output', 'executionArn.$': '$.ExecutionArn' });
    }
    const keys = reviews.map(([, s]) => (s.Parameters as { Input: Record<string, unknown> }).Input['idempotencyKey.$']);
    expect(keys.sort()).toEqual(["States.Format('{}:ApproveRefund', $$.Execution.Name)", "States.Format('{}:VerifyEmail', $$.Execution.Name)"]);
  });

  it('asks both people before the refund task: plan, approve the refund, verify the email, then refund', () => {
    const next = (name: string) => states[name]!.Next as string;
    expect(next('PlanRefund')).toBe('ApproveRefund');
    expect(next('ApproveRefund')).toBe('RefundApproved?');
    const emailChoice = states['EmailApproved?'] as { Choices: { Next: string }[]; Default: string };
    expect((states['RefundApproved?'] as { Choices: { Next: string }[] }).Choices[0]!.Next).toBe('VerifyEmail');
    expect(next('VerifyEmail')).toBe('EmailApproved?');
    expect(emailChoice.Choices[0]!.Next).toBe('Refund');
    expect(emailChoice.Default).toBe('NotApproved');
    // The refund task runs the agent with both Decisions; the local stack finds the handler by its metadata.
    expect(states.Refund!.Parameters).toMatchObject({ step: 'refund', 'reviews.$': '$.reviews' });
    const [agent] = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(agent!.Metadata).toMatchObject({ 'hitl:handler': 'examples/refund-workflow/agent.ts' });
  });

  it('branches on the Decision: approved or modified goes ahead', () => {
    const choice = states['RefundApproved?'] as { Choices: { Or: { Variable: string; StringEquals: string }[] }[] };
    expect(choice.Choices[0]!.Or).toEqual([
      { Variable: '$.reviews.ApproveRefund.decision.outcome', StringEquals: 'approved' },
      { Variable: '$.reviews.ApproveRefund.decision.outcome', StringEquals: 'modified' },
    ]);
  });

  it('lets the workflow start (and follow) executions of the review state machine', () => {
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('states:StartExecution');
    expect(policies).toContain(REVIEW_ARN);
  });

  it('refuses a request that is not a ReviewRequest, or an id that cannot be part of a key, naming the fix', () => {
    const scope = new Stack(new App(), 'Bad');
    const reviewStateMachine = sfn.StateMachine.fromStateMachineArn(scope, 'Review', REVIEW_ARN);
    const request = { kind: 'approval', agent: 'a', reason: 'r', risk: { class: 'financial', reversible: false }, reviewerGroup: 'support-leads' };
    expect(() => new HumanReview(scope, 'A', { reviewStateMachine, request: { ...request, kind: 'approve' } })).toThrow(/request.kind is "approve"; it must be one of approval/);
    expect(() => new HumanReview(scope, 'B', { reviewStateMachine, request: { ...request, reviewerGroup: undefined } })).toThrow(/request.reviewerGroup is missing/);
    expect(() => new HumanReview(scope, 'C d', { reviewStateMachine, request })).toThrow(/idempotency key/);
    // Two steps with one fixed key would share a request id and a Decision.
    new HumanReview(scope, 'First', { reviewStateMachine, request: { ...request, idempotencyKey: 'order-1' } });
    expect(() => new HumanReview(scope, 'Second', { reviewStateMachine, request: { ...request, idempotencyKey: 'order-1' } })).toThrow(/idempotencyKey "order-1" is also the key of First/);
    expect(() => new HumanReview(scope, 'Third', { reviewStateMachine, request: { ...request, idempotencyKey: 'order-1:third' } })).not.toThrow();
  });
});
