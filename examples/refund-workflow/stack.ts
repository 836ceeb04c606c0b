/**
 * A refund workflow of your own that asks people twice, with the HumanReview step: the agent (a Lambda) reads
 * the ticket and proposes a refund and the email to the customer; a support lead approves the refund (and may
 * lower it); a communications reviewer checks the email; only then does the refund task run. Each review is a
 * nested execution of the hitl review state machine with its own request id; the output holds both Decisions.
 * The hitl stack is already deployed; its review state machine is found by ARN.
 *
 *   npx cdk synth --app "npx tsx examples/refund-workflow/app.ts" -c reviewStateMachineArn=arn:aws:states:…:stateMachine:Hitl-review
 */
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { HANDLER_METADATA_KEY } from '#infra/constructs/handler-function.ts';
import { HumanReview } from '#infra/index.ts';
import { repoPath } from '#infra/paths.ts';

export const AGENT_ENTRY = 'examples/refund-workflow/agent.ts';

export interface RefundWorkflowProps extends StackProps {
  /** The deployed hitl review state machine (stack output `StateMachineArn`). */
  readonly reviewStateMachineArn: string;
}

export class RefundWorkflowStack extends Stack {
  readonly stateMachine: sfn.StateMachine;
  readonly agent: NodejsFunction;

  constructor(scope: Construct, id: string, props: RefundWorkflowProps) {
    super(scope, id, props);
    const reviewStateMachine = sfn.StateMachine.fromStateMachineArn(this, 'Review', props.reviewStateMachineArn);

    this.agent = new NodejsFunction(this, 'Agent', {
      entry: repoPath(AGENT_ENTRY),
      handler: 'handler',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: Duration.seconds(30),
      logGroup: new logs.LogGroup(this, 'AgentLogs', { retention: logs.RetentionDays.ONE_WEEK }),
      bundling: { format: OutputFormat.ESM, target: 'node22', minify: true },
    });
    // The local stack runs functions whose template metadata names their entry file.
    (this.agent.node.defaultChild as lambda.CfnFunction).addMetadata(HANDLER_METADATA_KEY, AGENT_ENTRY);

    const planRefund = new tasks.LambdaInvoke(this, 'PlanRefund', {
      lambdaFunction: this.agent,
      payload: sfn.TaskInput.fromObject({ step: 'plan', ticket: sfn.JsonPath.entirePayload }),
      payloadResponseOnly: true,
      resultPath: '$.plan',
    });
    const approveRefund = new HumanReview(this, 'ApproveRefund', {
      reviewStateMachine,
      request: {
        kind: 'approval',
        agent: 'refund-workflow',
        action: { name: 'refund', args: { order_id: sfn.JsonPath.stringAt('$.plan.refund.order_id'), amount_usd: sfn.JsonPath.numberAt('$.plan.refund.amount_usd') } },
        reason: sfn.JsonPath.stringAt('$.plan.reason'),
        confidence: sfn.JsonPath.numberAt('$.plan.confidence'),
        planStep: { current: 1, total: 2 },
        risk: { class: 'financial', reversible: false },
        reviewerGroup: 'support-leads',
        ttlSeconds: 1800,
      },
    });
    const verifyEmail = new HumanReview(this, 'VerifyEmail', {
      reviewStateMachine,
      request: {
        kind: 'verification',
        agent: 'refund-workflow',
        draft: sfn.JsonPath.objectAt('$.plan.email'),
        reason: 'The email tells the customer about money: check the amount and the tone before it goes out',
        planStep: { current: 2, total: 2 },
        risk: { class: 'customer-facing', reversible: false },
        reviewerGroup: 'comms-reviewers',
        ttlSeconds: 3600,
      },
    });
    const refund = new tasks.LambdaInvoke(this, 'Refund', {
      lambdaFunction: this.agent,
      payload: sfn.TaskInput.fromObject({ step: 'refund', plan: sfn.JsonPath.objectAt('$.plan'), reviews: sfn.JsonPath.objectAt('$.reviews') }),
      payloadResponseOnly: true,
      resultPath: '$.refund',
      comment: 'refund what the support lead approved; send the email as the reviewer left it',
    });
    const notApproved = new sfn.Succeed(this, 'NotApproved', { comment: 'the Decisions say who said no and why' });

    const definition = planRefund
      .next(approveRefund)
      .next(
        new sfn.Choice(this, 'RefundApproved?')
          .when(approveRefund.approved(), verifyEmail.next(new sfn.Choice(this, 'EmailApproved?').when(verifyEmail.approved(), refund).otherwise(notApproved)))
          .otherwise(notApproved),
      );
    this.stateMachine = new sfn.StateMachine(this, 'RefundWorkflow', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      tracingEnabled: true,
    });
  }
}
