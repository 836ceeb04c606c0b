/**
 * A refund workflow of your own that asks a person twice, with the HumanReview step: a support lead approves
 * the refund (and may lower it), then a verification of the customer email before it is sent. The hitl
 * stack is already deployed; its review state machine is found by ARN.
 *
 *   npx cdk synth --app "npx tsx examples/refund-workflow/app.ts" -c reviewStateMachineArn=arn:aws:states:…:stateMachine:Hitl-review
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { HumanReview } from '#infra/constructs/human-review.ts';

export interface RefundWorkflowProps extends StackProps {
  /** The deployed hitl review state machine (stack output `StateMachineArn`). */
  readonly reviewStateMachineArn: string;
}

export class RefundWorkflowStack extends Stack {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: RefundWorkflowProps) {
    super(scope, id, props);
    const reviewStateMachine = sfn.StateMachine.fromStateMachineArn(this, 'Review', props.reviewStateMachineArn);

    const approveRefund = new HumanReview(this, 'ApproveRefund', {
      reviewStateMachine,
      request: {
        kind: 'approval',
        agent: 'refund-workflow',
        action: { name: 'refund', args: { order_id: sfn.JsonPath.stringAt('$.orderId'), amount_usd: sfn.JsonPath.numberAt('$.amountUsd') } },
        reason: sfn.JsonPath.stringAt('$.reason'),
        risk: { class: 'financial', reversible: false },
        reviewerGroup: 'support-leads',
      },
    });
    const checkEmail = new HumanReview(this, 'CheckEmail', {
      reviewStateMachine,
      request: {
        kind: 'verification',
        agent: 'refund-workflow',
        draft: { channel: 'email', title: 'Your refund', body: sfn.JsonPath.format('We refunded your order {}.', sfn.JsonPath.stringAt('$.orderId')) },
        reason: 'customer-facing email about money',
        risk: { class: 'customer-comms', reversible: false },
        reviewerGroup: 'support-leads',
      },
    });

    const refund = new sfn.Pass(this, 'Refund', { comment: 'call the payments API with $.reviews.ApproveRefund.decision.approvedArgs' });
    const send = new sfn.Pass(this, 'SendEmail');
    const stop = new sfn.Succeed(this, 'NotApproved', { comment: 'the Decision says who said no and why' });
    const definition = approveRefund
      .next(new sfn.Choice(this, 'RefundApproved?').when(approveRefund.approved(), refund.next(checkEmail).next(new sfn.Choice(this, 'EmailApproved?').when(checkEmail.approved(), send).otherwise(stop))).otherwise(stop));
    this.stateMachine = new sfn.StateMachine(this, 'RefundWorkflow', { definitionBody: sfn.DefinitionBody.fromChainable(definition) });
  }
}
