/**
 * The refund workflow on the local stack: its CloudFormation resources (the agent function and the workflow's
 * state machine), synthesized against the local hitl review state machine, to add to the local stack's template.
 *
 *   npx tsx examples/refund-workflow/local.ts > .hitl/refund-workflow.json
 *   npm start -- --add-resources .hitl/refund-workflow.json
 *
 * The local Step Functions API then lists a second state machine, `Hitl-RefundWorkflow…`; start it with a ticket
 * (`{"ticketId":"T-1","orderId":"O-1","amountUsd":120,"customerEmail":"jane@example.com","complaint":"arrived broken"}`).
 */
import { pathToFileURL } from 'node:url';
import { App } from 'aws-cdk-lib';
import { stateMachineArn } from '#local/aws-ids.ts';
import type { Template } from '#local/template.ts';
import { RefundWorkflowStack } from './stack.ts';

/** The ARN the local stack gives the hitl review state machine of a stack named `stackName`. */
export function localReviewStateMachineArn(stackName = 'Hitl'): string {
  return stateMachineArn(`${stackName}-review`);
}

/** The example's resources, its review steps pointed at `reviewStateMachineArn`; bundling is skipped (the local stack runs the source). */
export function refundWorkflowResources(reviewStateMachineArn = localReviewStateMachineArn()): Template['Resources'] {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, analyticsReporting: false });
  const stack = new RefundWorkflowStack(app, 'RefundWorkflow', { reviewStateMachineArn });
  const template = app.synth().getStackArtifact(stack.artifactId).template as Template;
  return template.Resources;
}

/** Add the example to a synthesized hitl template (the local stack's `amendTemplate`), refusing to overwrite anything. */
export function addRefundWorkflow(template: Template): void {
  const review = Object.values(template.Resources).find((r) => r.Type === 'AWS::StepFunctions::StateMachine' && String(r.Properties?.StateMachineName ?? '').endsWith('-review'));
  const name = review?.Properties?.StateMachineName;
  if (typeof name !== 'string') throw new Error('The template has no hitl review state machine (a StateMachineName ending in -review) to point the example at');
  const resources = refundWorkflowResources(stateMachineArn(name));
  const clashes = Object.keys(resources).filter((id) => id in template.Resources);
  if (clashes.length) throw new Error(`The refund workflow's resources ${clashes.join(', ')} have the logical ids of resources in the hitl template`);
  Object.assign(template.Resources, resources);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const stackName = process.argv[2] ?? 'Hitl';
  process.stdout.write(`${JSON.stringify(refundWorkflowResources(localReviewStateMachineArn(stackName)), null, 2)}\n`);
}
