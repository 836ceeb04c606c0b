/**
 * Service-level monitoring: the monitor function runs every minute and publishes per-group queue
 * metrics; alarms on the oldest pending request, the expiry DLQ, failed executions and function
 * errors notify an SNS topic operators subscribe to.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DIMENSION, METRIC, METRICS_NAMESPACE } from '#shared/metrics.ts';

export interface SloAlarmsProps {
  /** Reviewer group names from the config: one oldest-pending alarm each. */
  readonly reviewerGroups: readonly string[];
  /** Alarm when a group's oldest pending request is older than this many seconds. */
  readonly oldestPendingAgeSeconds: number;
  /** Publishes QueueDepth and OldestPendingAgeSeconds; scheduled here every minute. */
  readonly monitorFunction: lambda.IFunction;
  /**
   * Dimensions the monitor puts on every queue metric besides ReviewerGroup (Powertools adds `service` and
   * any default dimensions). A CloudWatch metric is identified by all of its dimensions, so the alarm must name them all.
   * @default - none
   */
  readonly queueMetricDimensions?: Readonly<Record<string, string>>;
  /** Expiry schedule invocations that could not be delivered. */
  readonly deadLetterQueue: sqs.IQueue;
  /** Alarm when the DLQ holds at least this many messages. */
  readonly dlqDepth: number;
  /** Alarm on any failed execution. */
  readonly stateMachine: sfn.IStateMachine;
  /**
   * All dimensions of the settle function's ForgedResumes metric (Powertools' `service` and default ones).
   * @default - no forged-resume alarm
   */
  readonly forgedMetricDimensions?: Readonly<Record<string, string>>;
  /** Alarm on errors of each function, keyed by a stable name used in the alarm's construct ID. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  /**
   * Where alarms (and their recovery) are sent.
   * @default - a new SNS topic
   */
  readonly alarmTopic?: sns.ITopic;
}

export class SloAlarms extends Construct {
  readonly alarmTopic: sns.ITopic;
  readonly oldestPendingAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
  readonly deadLetterAlarm: cloudwatch.Alarm;
  readonly failedExecutionsAlarm: cloudwatch.Alarm;
  /** Someone resumed an execution with a payload that was not the stored Decision. */
  readonly forgedResumesAlarm?: cloudwatch.Alarm;
  readonly functionErrorAlarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** Alarm emails SNS could not deliver; made with the first email subscription. */
  subscriptionDeadLetterQueue?: sqs.Queue;
  private readonly alarm: (alarmId: string, alarmProps: cloudwatch.AlarmProps) => cloudwatch.Alarm;
  private readonly dlqDepth: number;

  constructor(scope: Construct, id: string, props: SloAlarmsProps) {
    super(scope, id);
    if (props.reviewerGroups.length === 0) {
      throw new Error(`SloAlarms ${id}: reviewerGroups is empty; pass the group names from the deployment config`);
    }
    if (!Number.isInteger(props.oldestPendingAgeSeconds) || props.oldestPendingAgeSeconds < 60) {
      throw new Error(`SloAlarms ${id}: oldestPendingAgeSeconds ${props.oldestPendingAgeSeconds} must be a whole number of seconds, at least 60`);
    }
    if (!Number.isInteger(props.dlqDepth) || props.dlqDepth < 1) {
      throw new Error(`SloAlarms ${id}: dlqDepth ${props.dlqDepth} must be a whole number of messages, at least 1`);
    }

    if (props.alarmTopic) {
      this.alarmTopic = props.alarmTopic;
    } else {
      this.alarmTopic = new sns.Topic(this, 'Topic', { displayName: 'hitl alarms', enforceSSL: true });
    }
    const notify = new actions.SnsAction(this.alarmTopic);

    new events.Rule(this, 'MonitorSchedule', {
      description: 'Publish hitl queue metrics every minute',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(props.monitorFunction, { retryAttempts: 0, maxEventAge: Duration.minutes(5), deadLetterQueue: props.deadLetterQueue })],
    });

    this.alarm = (alarmId: string, alarmProps: cloudwatch.AlarmProps): cloudwatch.Alarm => {
      const a = new cloudwatch.Alarm(this, alarmId, alarmProps);
      a.addAlarmAction(notify);
      a.addOkAction(notify);
      return a;
    };
    const alarm = this.alarm;

    const oldest: Record<string, cloudwatch.Alarm> = {};
    for (const group of props.reviewerGroups) {
      oldest[group] = alarm(`OldestPending-${group}`, {
        alarmDescription: `Reviewer group ${group}: the oldest pending review request has waited more than ${props.oldestPendingAgeSeconds}s`,
        metric: new cloudwatch.Metric({
          namespace: METRICS_NAMESPACE,
          metricName: METRIC.oldestPendingAge,
          dimensionsMap: { ...props.queueMetricDimensions, [DIMENSION.group]: group },
          statistic: cloudwatch.Stats.MAXIMUM,
          period: Duration.minutes(1),
        }),
        threshold: props.oldestPendingAgeSeconds,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        // No data means the queue is empty (or the monitor is failing, which its error alarm reports).
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    this.oldestPendingAlarms = oldest;

    this.dlqDepth = props.dlqDepth;
    this.deadLetterAlarm = this.alarmOnDepth(
      'DeadLetters',
      props.deadLetterQueue,
      'Deliveries failed every retry (expiry schedules, rule targets on the decision bus and on execution status changes, asynchronous invocations); their messages are in the dead-letter queue: see docs/reliability.md, `hitl redrive`',
    );

    this.failedExecutionsAlarm = alarm('FailedExecutions', {
      alarmDescription: 'Review executions failed (invalid input, duplicate request or an internal error)',
      metric: props.stateMachine.metricFailed({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    if (props.forgedMetricDimensions) {
      this.forgedResumesAlarm = alarm('ForgedResumes', {
        alarmDescription: 'An execution was resumed with a payload that is not the stored Decision: someone with SendTaskSuccess and the task token forged a decision (the execution was failed)',
        metric: new cloudwatch.Metric({
          namespace: METRICS_NAMESPACE,
          metricName: METRIC.forgedResumes,
          dimensionsMap: { ...props.forgedMetricDimensions },
          statistic: cloudwatch.Stats.SUM,
          period: Duration.minutes(1),
        }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }

    const errors: Record<string, cloudwatch.Alarm> = {};
    for (const [name, fn] of Object.entries(props.functions)) {
      errors[name] = alarm(`${name}Errors`, {
        alarmDescription: `The ${name} function reported errors`,
        metric: fn.metricErrors({ statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5) }),
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    this.functionErrorAlarms = errors;
  }

  /** An alarm (to the alarm topic) when `queue` holds at least the config's `alarms.dlqDepth` messages. */
  alarmOnDepth(alarmId: string, queue: sqs.IQueue, description: string): cloudwatch.Alarm {
    return this.alarm(alarmId, {
      alarmDescription: description,
      metric: queue.metricApproximateNumberOfMessagesVisible({ statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(1) }),
      threshold: this.dlqDepth,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }

  /** Subscribes `email` to the alarm topic; what SNS cannot deliver goes to a dead-letter queue, which alarms. */
  subscribeEmail(email: string): void {
    if (!this.subscriptionDeadLetterQueue) {
      this.subscriptionDeadLetterQueue = new sqs.Queue(this, 'SubscriptionDeadLetters', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      Validations.of(this.subscriptionDeadLetterQueue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is itself the dead-letter queue of the alarm topic’s email subscriptions; it has no DLQ of its own.',
      });
      this.alarmOnDepth('SubscriptionDeadLettersAlarm', this.subscriptionDeadLetterQueue, 'SNS could not deliver alarm notifications to a subscribed email address; they are in the subscriptions’ dead-letter queue (check the address and the alarms in the console)');
    }
    this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(email, { deadLetterQueue: this.subscriptionDeadLetterQueue }));
  }
}
