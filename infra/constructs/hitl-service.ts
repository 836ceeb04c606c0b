/**
 * HitlService: everything a hitl deployment runs, as one construct you can put in your own stack: review
 * tables, the handlers, the review state machine, the reviewers' HTTP API, expiry scheduling, the link-signing
 * secret, the decision bus, SLO alarms, the decision stream to S3 for Athena and the decisions dashboard,
 * wired with least-privilege grants.
 *
 *   const hitl = new HitlService(this, 'Hitl', { config: { sender: 'hitl@example.com', reviewerGroups: { … } } });
 *   new HumanReview(this, 'ApproveRefund', { reviewStateMachine: hitl.workflow.stateMachine, request: { … } });
 *
 * `HitlStack` is a thin user of it: it adds it with the id `Default`, which CDK leaves out of logical ids, so a
 * stack deployed before the construct existed keeps every resource.
 */
import { Duration, RemovalPolicy, Size, Stack, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { encodeConfigEnv, MAX_CONFIG_ENV_BYTES } from '#shared/config-env.ts';
import { ENV } from '#shared/env.ts';
import { ConfigError } from '#shared/errors.ts';
import { backstopSeconds } from '#shared/policies/backstop.ts';
import { parseDeploymentConfig, type DeploymentConfig, type DeploymentConfigInput } from '#shared/schemas/config.ts';
import { DecisionAnalytics } from './decision-analytics.ts';
import { DecisionDashboard } from './decision-dashboard.ts';
import { DecisionWebhooks } from './decision-webhooks.ts';
import { ExpiryScheduling } from './expiry-scheduling.ts';
import { POWERTOOLS_SERVICE_NAME, SOURCE_MAPS_CONTEXT } from './handler-function.ts';
import { InAppApi } from './in-app-api.ts';
import { OutcomeNotices } from './outcome-notices.ts';
import { ReviewApi } from './review-api.ts';
import { ReviewFunctions } from './review-functions.ts';
import { ReviewStateMachine } from './review-state-machine.ts';
import { ReviewTables } from './review-tables.ts';
import { SigningSecret } from './signing-secret.ts';
import { SlackChannel } from './slack-channel.ts';
import { SloAlarms } from './slo-alarms.ts';
import { acknowledgeWildcardResource } from '../nag.ts';
import { LOG_RETENTION_CONTEXT, TRACING_CONTEXT } from '../observability.ts';
import { grantSendEmailFrom } from '../ses.ts';

export interface HitlServiceProps {
  /**
   * The deployment config (README "Configuration reference"; schema `shared/schemas/config.ts`). Validated here:
   * a bad field fails synth with its path.
   */
  readonly config: DeploymentConfigInput;
  /**
   * Names the config's origin in validation errors, e.g. `hitl config file hitl.prod.json`.
   * @default 'hitl config'
   */
  readonly configSource?: string;
  /**
   * Prefix of the physical names: the state machine `<name>-review`, the schedule group `<name>-expiry`, the bus
   * `<name>-decisions`, the Athena workgroup `<name>-analytics`, the Glue database and the dashboard.
   * @default - the stack's name
   */
  readonly name?: string;
  /**
   * What happens to the requests table and the decision log when the stack is deleted. `RETAIN` also turns on
   * deletion protection; `DESTROY` is for throwaway stacks only.
   * @default - RemovalPolicy.RETAIN, or RemovalPolicy.DESTROY when the config says `dev: true`
   */
  readonly tableRemovalPolicy?: RemovalPolicy;
  /**
   * What happens to everything else that holds data when the stack is deleted: log groups, the link-signing
   * secret, the schedule group, the expiry dead-letter queue and the analytics buckets.
   * @default - RemovalPolicy.RETAIN, or RemovalPolicy.DESTROY when the config says `dev: true`
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Throttling of the reviewers' HTTP API (default stage): steady requests per second and burst.
   * @default - the config's `api` (50 per second, bursts of 100)
   */
  readonly apiThrottle?: { readonly rateLimit: number; readonly burstLimit: number };
  /**
   * Base URL of the review links in emails, e.g. `https://review.example.com` when the HTTP API has a custom
   * domain (map the domain to the API's `$default` stage yourself, see README "Deploying to AWS").
   * @default - the config's `publicBaseUrl`, else the HTTP API's own `execute-api` URL
   */
  readonly publicBaseUrl?: string;
  /**
   * An existing SNS topic for the alarms (and their recovery), e.g. your on-call team's.
   * @default - a new topic
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Email addresses subscribed to the alarm topic (each confirms the subscription from an email AWS sends).
   * @default - the config's `alarms.emails`, else none: subscribe with `aws sns subscribe`
   */
  readonly alarmEmails?: readonly string[];
}

export class HitlService extends Construct {
  /** The validated deployment config. */
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
  /** The conclude function and its rule on the decision bus: outcome notices and channel updates. */
  readonly notices: OutcomeNotices;
  /** Present when the config allows webhook hosts: POSTs each Decision to its request's `notify.url`. */
  readonly webhooks?: DecisionWebhooks;
  /** In-app answers, when the config enables them (`inApp`). */
  readonly inApp?: InAppApi;
  /** Review messages in Slack and their interactions route, when the config enables Slack. */
  readonly slack?: SlackChannel;
  /** The base URL of the review links in emails: `publicBaseUrl`, or the HTTP API's URL (ending in `/`). */
  readonly publicBaseUrl: string;
  /** The config as the functions receive it in HITL_CONFIG. */
  readonly configEnv: string;

  constructor(scope: Construct, id: string, props: HitlServiceProps) {
    super(scope, id);
    const config = parseDeploymentConfig(props.config, props.configSource ?? 'hitl config');
    this.config = config;
    this.node.setContext(SOURCE_MAPS_CONTEXT, config.sourceMaps);
    this.node.setContext(LOG_RETENTION_CONTEXT, config.logRetentionDays);
    this.node.setContext(TRACING_CONTEXT, config.tracing);
    const configEnv = encodeConfigEnv(config);
    this.configEnv = configEnv;
    if (Buffer.byteLength(configEnv) > MAX_CONFIG_ENV_BYTES) {
      throw new ConfigError(
        `The hitl config is ${Buffer.byteLength(configEnv)} bytes even compressed; functions receive it in ${ENV.config} and Lambda allows 4 KB of variables in all. Keep it under ${MAX_CONFIG_ENV_BYTES} bytes (fewer or shorter member lists and rules).`,
      );
    }
    const name = props.name ?? Stack.of(this).stackName;
    if (!Token.isUnresolved(name) && !/^[A-Za-z][A-Za-z0-9-]{0,60}$/.test(name)) {
      throw new Error(`HitlService ${id}: name ${JSON.stringify(name)} must be 1-61 letters, digits and dashes, starting with a letter (it prefixes resource names), e.g. "Hitl"`);
    }
    const configured = config.dev ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
    const removalPolicy = props.removalPolicy ?? configured;
    const tableRemovalPolicy = props.tableRemovalPolicy ?? configured;
    if (tableRemovalPolicy !== RemovalPolicy.RETAIN && tableRemovalPolicy !== RemovalPolicy.DESTROY) {
      throw new Error(`HitlService ${id}: tableRemovalPolicy ${tableRemovalPolicy} is not supported; use RemovalPolicy.RETAIN (production) or RemovalPolicy.DESTROY (throwaway stacks)`);
    }
    const publicBaseUrl = props.publicBaseUrl ?? config.publicBaseUrl;
    if (publicBaseUrl !== undefined && !Token.isUnresolved(publicBaseUrl) && !/^https:\/\/[^/?#\s]+(\/[^?#\s]*)?$/.test(publicBaseUrl)) {
      throw new Error(`HitlService ${id}: publicBaseUrl ${JSON.stringify(publicBaseUrl)} must be an https URL without query or fragment, e.g. "https://review.example.com"`);
    }

    this.tables = new ReviewTables(this, 'Tables', { retain: tableRemovalPolicy === RemovalPolicy.RETAIN });
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
      scheduleGroupName: `${name}-expiry`,
      removalPolicy,
    });
    // What runs asynchronously (the status-change rule's settle, the schedules' expire, the minute's monitor)
    // ends in the dead-letter queue once Lambda's retries run out, rather than being dropped.
    settle.failInto(this.scheduling.deadLetterQueue);
    expire.failInto(this.scheduling.deadLetterQueue);
    // A missed minute is made good by the next one: no retries, and an old event is not worth running.
    monitor.failInto(this.scheduling.deadLetterQueue, { retryAttempts: 0, maxEventAge: Duration.minutes(5) });
    this.api = new ReviewApi(this, 'Api', {
      respondFunction: respond.function,
      rateLimit: props.apiThrottle?.rateLimit ?? config.api.rateLimit,
      burstLimit: props.apiThrottle?.burstLimit ?? config.api.burstLimit,
      logRemovalPolicy: removalPolicy,
    });
    this.publicBaseUrl = publicBaseUrl ?? this.api.url;
    this.workflow = new ReviewStateMachine(this, 'Workflow', {
      routeFunction: route.function,
      requestFunction: request.function,
      expireFunction: expire.function,
      settleFunction: settle.function,
      stateMachineName: `${name}-review`,
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
      fn.addEnvironment(ENV.baseUrl, this.publicBaseUrl);
      this.signingSecret.grantRead(fn.role);
      this.scheduling.grantManageSchedules(fn.role);
    }
    // Reviewers are emailed when a round starts; a cancel (settle) emails nobody (the conclude function does).
    for (const fn of [request, respond, expire]) grantSendEmailFrom(fn.role, this, config.sender);
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

    // Every function that can end a request puts its `hitl.decision` event on the service's own bus.
    this.decisionBus = new events.EventBus(this, 'DecisionBus', { eventBusName: `${name}-decisions`, description: 'hitl: one hitl.decision event per request that ends' });
    for (const fn of [route, respond, expire, settle, monitor]) {
      fn.addEnvironment(ENV.eventBusName, this.decisionBus.eventBusName);
      this.decisionBus.grantPutEventsTo(fn.role);
    }

    // Off the reviewer's request path: each decision event tells the other reviewers and updates the channels.
    this.notices = new OutcomeNotices(this, 'Notices', {
      decisionBus: this.decisionBus,
      requestsTable: this.tables.requests,
      sender: config.sender,
      environment: { [ENV.requestsTable]: this.tables.requests.tableName, [ENV.decisionsTable]: this.tables.decisionLog.tableName, [ENV.config]: configEnv },
      deadLetterQueue: this.scheduling.deadLetterQueue,
      removalPolicy,
    });
    if (config.slack) {
      const functions = [request, respond, expire, this.notices.handler].map((f) => f.function);
      this.slack = new SlackChannel(this, 'SlackChannel', { api: this.api.api, interactionsFunction: respond.function, functions, removalPolicy });
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

    if (config.inApp) {
      this.inApp = new InAppApi(this, 'InApp', {
        issuer: config.inApp.issuer,
        audience: config.inApp.audience,
        environment: { [ENV.requestsTable]: this.tables.requests.tableName, [ENV.decisionsTable]: this.tables.decisionLog.tableName, [ENV.config]: configEnv },
        tables: this.tables,
        workflow: this.workflow,
        scheduling: this.scheduling,
        signingSecret: this.signingSecret,
        decisionBus: this.decisionBus,
        expireFunctionArn: expire.function.functionArn,
        reviewApiUrl: this.publicBaseUrl,
        rateLimit: config.api.rateLimit,
        burstLimit: config.api.burstLimit,
        logRemovalPolicy: removalPolicy,
      });
    }

    this.tables.grantPendingQueue(monitor.role);
    // The web inbox lists each group's pending requests.
    this.tables.grantPendingQueue(respond.role);
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
      alarmTopic: props.alarmTopic,
    });
    for (const email of props.alarmEmails ?? config.alarms.emails ?? []) this.alarms.subscribeEmail(email);

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
      name,
      queryScanLimit: Size.mebibytes(config.analytics.queryScanLimitMb),
      bufferInterval: Duration.seconds(config.analytics.bufferSeconds),
      retentionDays: config.retentionDays,
      alarmTopic: this.alarms.alarmTopic,
      removalPolicy,
    });
    this.dashboard = new DecisionDashboard(this, 'Dashboard', {
      name,
      reviewerGroups: Object.keys(config.reviewerGroups),
      queueMetricDimensions: { service: POWERTOOLS_SERVICE_NAME, fn: 'monitor' },
      decisionLogGroups: [route.logGroup, respond.logGroup, expire.logGroup, settle.logGroup],
      alarms: DecisionDashboard.alarmsIn(this),
      oldestPendingAgeSeconds: config.alarms.oldestPendingAgeSeconds,
    });

    if (config.webhooks.allowedHosts.length > 0) {
      this.webhooks = new DecisionWebhooks(this, 'Webhooks', {
        decisionBus: this.decisionBus,
        requestsTable: this.tables.requests,
        decisionLog: this.tables.decisionLog,
        webhooks: config.webhooks,
        environment: { [ENV.requestsTable]: this.tables.requests.tableName, [ENV.decisionsTable]: this.tables.decisionLog.tableName, [ENV.config]: configEnv },
        deadLetterQueue: this.scheduling.deadLetterQueue,
        removalPolicy,
      });
    }
  }

  /** Let `grantee` (an agent's role) start reviews, follow and cancel them: the AgentPolicy's statements. */
  grantStartReview(grantee: iam.IGrantable): iam.Grant {
    return this.workflow.grantStartReview(grantee);
  }

  /** The stack outputs HitlStack publishes: [id, value, description]. */
  outputs(): [string, string, string][] {
    return [
      ['StateMachineArn', this.workflow.stateMachine.stateMachineArn, 'Start a review: StartExecution with a ReviewRequest'],
      ['ReviewApiUrl', this.api.url, 'Base URL of the signed review links'],
      ...(this.publicBaseUrl === this.api.url ? [] : [['ReviewLinkBaseUrl', this.publicBaseUrl, 'Base URL of the signed review links in emails (custom domain)'] as [string, string, string]]),
      ['RequestsTableName', this.tables.requests.tableName, 'One row per review request'],
      ['DecisionLogTableName', this.tables.decisionLog.tableName, 'Append-only decision log'],
      ['SigningSecretArn', this.signingSecret.secret.secretArn, 'HMAC keys for review links'],
      ['ScheduleGroupName', this.scheduling.scheduleGroupName, 'EventBridge Scheduler group of expiry schedules'],
      ['DeadLetterQueueUrl', this.scheduling.deadLetterQueue.queueUrl, 'Deliveries that failed every retry: hitl redrive --queue-url <this>'],
      ['AgentPolicyArn', this.agentPolicy.managedPolicyArn, 'Attach to an agent role: StartExecution, DescribeExecution, StopExecution'],
      ['DecisionBusName', this.decisionBus.eventBusName, 'EventBridge bus of the hitl.decision events (source hitl)'],
      ['AlarmTopicArn', this.alarms.alarmTopic.topicArn, 'Subscribe operators to hitl alarms'],
      ...this.analytics.outputs(),
      ...(this.inApp ? [['InAppApiUrl', this.inApp.url, 'Base URL of the in-app API (JWT): /v1/respondents/{id}/pending, /v1/requests/{id}'] as [string, string, string]] : []),
      ...(this.webhooks ? [['WebhookSecretArn', this.webhooks.secret.secretArn, 'Secret decision webhooks are signed with (give it to the agents that verify them)'] as [string, string, string]] : []),
    ];
  }
}
