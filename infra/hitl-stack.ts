/**
 * The hitl stack: review tables, the five handlers, the review state machine, the reviewers' HTTP API,
 * expiry scheduling, the link-signing secret, SLO alarms, the decision stream to S3 for Athena and the
 * decisions dashboard, wired with least-privilege grants.
 */
import { CfnOutput, Duration, RemovalPolicy, Size, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import { encodeConfigEnv, MAX_CONFIG_ENV_BYTES } from '#shared/config-env.ts';
import { ENV } from '#shared/env.ts';
import { ConfigError } from '#shared/errors.ts';
import { backstopSeconds } from '#shared/policies/backstop.ts';
import { parseDeploymentConfig, type DeploymentConfig } from '#shared/schemas/config.ts';
import { DecisionAnalytics } from './constructs/decision-analytics.ts';
import { DecisionDashboard } from './constructs/decision-dashboard.ts';
import { ExpiryScheduling } from './constructs/expiry-scheduling.ts';
import { POWERTOOLS_SERVICE_NAME } from './constructs/handler-function.ts';
import { ReviewApi } from './constructs/review-api.ts';
import { ReviewFunctions } from './constructs/review-functions.ts';
import { ReviewStateMachine } from './constructs/review-state-machine.ts';
import { ReviewTables } from './constructs/review-tables.ts';
import { SigningSecret } from './constructs/signing-secret.ts';
import { SlackChannel } from './constructs/slack-channel.ts';
import { SloAlarms } from './constructs/slo-alarms.ts';
import { acknowledgeWildcardResource } from './nag.ts';
import { grantSendEmailFrom } from './ses.ts';

export interface HitlStackProps extends StackProps {
  /** The deployment config as written (cdk.json context `hitl` or a JSON file); validated here. */
  readonly config: unknown;
  /**
   * Names the config's origin in validation errors.
   * @default 'hitl config'
   */
  readonly configSource?: string;
}

export class HitlStack extends Stack {
  readonly config: DeploymentConfig;
  readonly tables: ReviewTables;
  readonly functions: ReviewFunctions;
  readonly workflow: ReviewStateMachine;
  readonly api: ReviewApi;
  readonly scheduling: ExpiryScheduling;
  readonly signingSecret: SigningSecret;
  readonly alarms: SloAlarms;
  /** What an agent's role needs (see ReviewStateMachine.grantStartReview). */
  readonly agentPolicy: iam.ManagedPolicy;
  /** Where every `hitl.decision` event goes (source `hitl`): one per request that ends. */
  readonly decisionBus: events.EventBus;
  /** Runs the settle function's cancel on execution status changes. */
  readonly executionEnded: events.Rule;
  readonly analytics: DecisionAnalytics;
  readonly dashboard: DecisionDashboard;

  constructor(scope: Construct, id: string, props: HitlStackProps) {
    super(scope, id, props);
    const config = parseDeploymentConfig(props.config, props.configSource ?? 'hitl config');
    this.config = config;
    const configEnv = encodeConfigEnv(config);
    if (Buffer.byteLength(configEnv) > MAX_CONFIG_ENV_BYTES) {
      throw new ConfigError(
        `The hitl config is ${Buffer.byteLength(configEnv)} bytes even compressed; functions receive it in ${ENV.config} and Lambda allows 4 KB of variables in all. Keep it under ${MAX_CONFIG_ENV_BYTES} bytes (fewer or shorter member lists and rules).`,
      );
    }
    const removalPolicy = config.dev ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    this.tables = new ReviewTables(this, 'Tables', { retain: !config.dev });
    this.signingSecret = new SigningSecret(this, 'SigningSecret', { removalPolicy });
    this.functions = new ReviewFunctions(this, 'Functions', {
      logRemovalPolicy: removalPolicy,
      environment: {
        [ENV.requestsTable]: this.tables.requests.tableName,
        [ENV.decisionsTable]: this.tables.decisionLog.tableName,
        [ENV.config]: configEnv,
      },
    });
    const { route, request, respond, expire, monitor, settle } = this.functions;

    this.scheduling = new ExpiryScheduling(this, 'Expiry', {
      expireFunction: expire.function,
      scheduleGroupName: `${this.stackName}-expiry`,
      removalPolicy,
    });
    this.api = new ReviewApi(this, 'Api', {
      respondFunction: respond.function,
      rateLimit: config.api.rateLimit,
      burstLimit: config.api.burstLimit,
      logRemovalPolicy: removalPolicy,
    });
    this.workflow = new ReviewStateMachine(this, 'Workflow', {
      routeFunction: route.function,
      requestFunction: request.function,
      expireFunction: expire.function,
      settleFunction: settle.function,
      stateMachineName: `${this.stackName}-review`,
      backstopTimeout: Duration.seconds(backstopSeconds(config)),
      logRemovalPolicy: removalPolicy,
    });

    // Functions that email reviewers, sign links and manage expiry schedules (settle deletes a cancelled one's).
    for (const fn of [request, respond, expire, settle]) {
      fn.addEnvironment(ENV.signingSecretId, this.signingSecret.secret.secretArn);
      fn.addEnvironment(ENV.scheduleGroup, this.scheduling.scheduleGroupName);
      fn.addEnvironment(ENV.schedulerRoleArn, this.scheduling.schedulerRole.roleArn);
      fn.addEnvironment(ENV.scheduleDlqArn, this.scheduling.deadLetterQueue.queueArn);
      // The URL names only the API (not its routes or integration), so respond may have it without a cycle.
      fn.addEnvironment(ENV.baseUrl, this.api.url);
      this.signingSecret.grantRead(fn.role);
      this.scheduling.grantManageSchedules(fn.role);
      grantSendEmailFrom(fn.role, this, config.sender);
    }
    if (config.slack) new SlackChannel(this, 'SlackChannel', { api: this.api.api, interactionsFunction: respond.function, functions: [request, respond, expire, settle].map((f) => f.function), removalPolicy });
    // The expire function targets itself with context.invokedFunctionArn: setting its own ARN would be a cycle.
    for (const fn of [request, respond, settle]) fn.addEnvironment(ENV.expireFunctionArn, expire.function.functionArn);

    // Each state change is one transaction with its log event (the grants are those of the writes it holds).
    // Route reads the request id it was given, records requests a policy decided, and marks their event published.
    this.tables.grantRequests(route.role, 'GetItem', 'PutItem', 'UpdateItem');
    this.tables.grantDecisionLog(route.role, 'PutItem');

    this.tables.grantRequests(request.role, 'GetItem', 'PutItem', 'UpdateItem');
    this.tables.grantDecisionLog(request.role, 'PutItem');
    this.workflow.grantTaskResponse(request.role, 'SendTaskSuccess');

    for (const fn of [respond, expire, settle]) {
      this.tables.grantRequests(fn.role, 'GetItem', 'UpdateItem');
      this.tables.grantDecisionLog(fn.role, 'PutItem');
      this.workflow.grantTaskResponse(fn.role, 'SendTaskSuccess', 'SendTaskFailure');
    }

    // Every function that can end a request puts its `hitl.decision` event on the stack's own bus.
    this.decisionBus = new events.EventBus(this, 'DecisionBus', { eventBusName: `${this.stackName}-decisions`, description: 'hitl: one hitl.decision event per request that ends' });
    for (const fn of [route, respond, expire, settle, monitor]) {
      fn.addEnvironment(ENV.eventBusName, this.decisionBus.eventBusName);
      this.decisionBus.grantPutEventsTo(fn.role);
    }

    // An execution that ends without a decision (stopped, failed, timed out) cancels its pending request.
    this.executionEnded = new events.Rule(this, 'ExecutionEnded', {
      description: 'hitl: cancel the pending review request of an execution that was stopped, failed or timed out',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: ['ABORTED', 'FAILED', 'TIMED_OUT'], stateMachineArn: [this.workflow.stateMachine.stateMachineArn] },
      },
      targets: [new targets.LambdaFunction(settle.function, { retryAttempts: 185, maxEventAge: Duration.hours(24), deadLetterQueue: this.scheduling.deadLetterQueue })],
    });

    this.tables.grantPendingQueue(monitor.role);
    // The monitor finishes resumes a crash left undone.
    this.tables.grantRequests(monitor.role, 'GetItem', 'UpdateItem');
    this.tables.grantDecisionLog(monitor.role, 'PutItem');
    this.workflow.grantTaskResponse(monitor.role, 'SendTaskSuccess');

    this.alarms = new SloAlarms(this, 'Alarms', {
      reviewerGroups: Object.keys(config.reviewerGroups),
      oldestPendingAgeSeconds: config.alarms.oldestPendingAgeSeconds,
      monitorFunction: monitor.function,
      // What shared/clients.ts createMetrics('monitor') puts on every metric.
      queueMetricDimensions: { service: POWERTOOLS_SERVICE_NAME, fn: 'monitor' },
      deadLetterQueue: this.scheduling.deadLetterQueue,
      dlqDepth: config.alarms.dlqDepth,
      stateMachine: this.workflow.stateMachine,
      forgedMetricDimensions: { service: POWERTOOLS_SERVICE_NAME, fn: 'settle' },
      functions: { Route: route.function, Request: request.function, Respond: respond.function, Expire: expire.function, Monitor: monitor.function, Settle: settle.function },
    });

    // Attach to an agent's role: start reviews, follow and cancel them, nothing else.
    this.agentPolicy = new iam.ManagedPolicy(this, 'AgentPolicy', {
      description: 'hitl: start review executions, read their status and Decision, cancel them',
      statements: this.workflow.agentPolicyStatements(),
    });
    acknowledgeWildcardResource(
      this.agentPolicy,
      this.workflow.agentPolicyStatements()[1]!.resources[0]!,
      'Execution ARNs are not known in advance; the wildcard covers only this state machine’s executions, for DescribeExecution and StopExecution.',
    );
    this.analytics = new DecisionAnalytics(this, 'Analytics', {
      decisionLog: this.tables.decisionLog,
      requestsTable: this.tables.requests,
      environment: { [ENV.requestsTable]: this.tables.requests.tableName, [ENV.decisionsTable]: this.tables.decisionLog.tableName, [ENV.config]: configEnv },
      name: this.stackName,
      queryScanLimit: Size.mebibytes(config.analytics.queryScanLimitMb),
      bufferInterval: Duration.seconds(config.analytics.bufferSeconds),
      retentionDays: config.retentionDays,
      alarmTopic: this.alarms.alarmTopic,
      removalPolicy,
    });
    this.dashboard = new DecisionDashboard(this, 'Dashboard', {
      name: this.stackName,
      reviewerGroups: Object.keys(config.reviewerGroups),
      queueMetricDimensions: { service: POWERTOOLS_SERVICE_NAME, fn: 'monitor' },
      decisionLogGroups: [route.logGroup, respond.logGroup, expire.logGroup, settle.logGroup],
      alarms: DecisionDashboard.alarmsIn(this),
      oldestPendingAgeSeconds: config.alarms.oldestPendingAgeSeconds,
    });

    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    output('StateMachineArn', this.workflow.stateMachine.stateMachineArn, 'Start a review: StartExecution with a ReviewRequest');
    output('ReviewApiUrl', this.api.url, 'Base URL of the signed review links');
    output('RequestsTableName', this.tables.requests.tableName, 'One row per review request');
    output('DecisionLogTableName', this.tables.decisionLog.tableName, 'Append-only decision log');
    output('SigningSecretArn', this.signingSecret.secret.secretArn, 'HMAC keys for review links');
    output('ScheduleGroupName', this.scheduling.scheduleGroupName, 'EventBridge Scheduler group of expiry schedules');
    output('AgentPolicyArn', this.agentPolicy.managedPolicyArn, 'Attach to an agent role: StartExecution, DescribeExecution, StopExecution');
    output('DecisionBusName', this.decisionBus.eventBusName, 'EventBridge bus of the hitl.decision events (source hitl)');
    output('AlarmTopicArn', this.alarms.alarmTopic.topicArn, 'Subscribe operators to hitl alarms');
    for (const [id, value, description] of this.analytics.outputs()) output(id, value, description);
  }
}
