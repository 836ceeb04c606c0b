/**
 * One-time EventBridge Scheduler schedules end each time box: a schedule group owned by the stack,
 * the role the Scheduler assumes (invoke the expire function, send failures to the DLQ) and that DLQ.
 */
import { Duration, RemovalPolicy, Stack, ArnFormat, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from '../nag.ts';

export interface ExpirySchedulingProps {
  /** The function each schedule invokes (the only function the Scheduler's role may invoke). */
  readonly expireFunction: lambda.IFunction;
  /** Name of the schedule group; schedules are created and deleted only inside it. */
  readonly scheduleGroupName: string;
  /**
   * How long undeliverable schedule invocations stay in the DLQ.
   * @default Duration.days(14)
   */
  readonly dlqRetention?: Duration;
  /**
   * What happens to the schedule group and the DLQ when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class ExpiryScheduling extends Construct {
  readonly scheduleGroup: scheduler.CfnScheduleGroup;
  readonly scheduleGroupName: string;
  /** Assumed by scheduler.amazonaws.com; passed on CreateSchedule. */
  readonly schedulerRole: iam.Role;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: ExpirySchedulingProps) {
    super(scope, id);
    if (!/^[0-9a-zA-Z-_.]{1,64}$/.test(props.scheduleGroupName)) {
      throw new Error(
        `ExpiryScheduling ${id}: scheduleGroupName "${props.scheduleGroupName}" is not a valid schedule group name; use 1-64 letters, digits, "-", "_" or "."`,
      );
    }
    const stack = Stack.of(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.scheduleGroupName = props.scheduleGroupName;

    this.scheduleGroup = new scheduler.CfnScheduleGroup(this, 'Group', { name: props.scheduleGroupName });
    this.scheduleGroup.applyRemovalPolicy(removalPolicy);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: props.dlqRetention ?? Duration.days(14),
      removalPolicy,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the expiry schedules; it has no DLQ of its own.',
    });

    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: 'Assumed by EventBridge Scheduler to run expiry schedules',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
      }),
    });
    // The function ARN alone: schedules target the unqualified function, never a version.
    this.schedulerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.expireFunction.functionArn] }),
    );
    this.deadLetterQueue.grantSendMessages(this.schedulerRole);
  }

  /** ARN pattern of every schedule in the group. */
  get scheduleArnPattern(): string {
    return Stack.of(this).formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.scheduleGroupName}/*`,
      arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
    });
  }

  /** Create, read and delete schedules in this group, passing the Scheduler role (and no other role). */
  grantManageSchedules(grantee: iam.IGrantable): iam.Grant {
    const schedules = iam.Grant.addToPrincipal({
      grantee,
      actions: ['scheduler:CreateSchedule', 'scheduler:GetSchedule', 'scheduler:DeleteSchedule'],
      resourceArns: [this.scheduleArnPattern],
    });
    const passRole = iam.Grant.addToPrincipal({
      grantee,
      actions: ['iam:PassRole'],
      resourceArns: [this.schedulerRole.roleArn],
      conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    });
    if (grantee.grantPrincipal instanceof Construct) {
      acknowledgeWildcardResource(
        grantee.grantPrincipal,
        this.scheduleArnPattern,
        'Schedule names are per request and made at run time; the grant is limited to this stack\'s schedule group.',
      );
    }
    return schedules.combine(passRole);
  }
}
