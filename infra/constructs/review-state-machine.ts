/**
 * The review workflow (Standard, JSONPath):
 *   Route ─▶ Routed? ─ decided ─▶ AutoDecided (the policy's Decision; ends the execution)
 *                    └ review ──▶ HumanReview (waitForTaskToken on the request function)
 *                                   ├ ─▶ Settle (settle function: the Decision stored in the requests
 *                                   │    table; a payload that is not it fails with ForgedDecisionError)
 *                                   └ States.Timeout ─▶ Backstop (expire function → Decision)
 * Route has no Catch: InvalidRequestError and IdempotencyConflictError fail the execution under their own names.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from '../nag.ts';
import { logRetention } from '../observability.ts';

/** Errors a Lambda invocation may raise before the handler ran; safe to retry. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
] as const;

export const STATE = {
  route: 'Route',
  routed: 'Routed?',
  autoDecided: 'AutoDecided',
  humanReview: 'HumanReview',
  settle: 'Settle',
  backstop: 'Backstop',
  unknownRoute: 'UnknownRoute',
} as const;

/** Step Functions' own limit on a task's TimeoutSeconds (and a Standard execution's life). */
const MAX_TASK_TIMEOUT_SECONDS = 365 * 86400;

export type TaskResponseAction = 'SendTaskSuccess' | 'SendTaskFailure' | 'SendTaskHeartbeat';

export interface ReviewStateMachineProps {
  /** Validates the agent's request and applies routing policy (RouteEvent → RouteResult). */
  readonly routeFunction: lambda.IFunction;
  /** Stores the request, schedules its expiry and emails reviewers (RequestTaskEvent, with the task token). */
  readonly requestFunction: lambda.IFunction;
  /** Applies the fallback when the backstop fires (ExpireEvent `backstop` → Decision). */
  readonly expireFunction: lambda.IFunction;
  /** Returns the stored Decision after the human-review task (SettleEvent → Decision). */
  readonly settleFunction: lambda.IFunction;
  /**
   * Explicit state machine name. Functions that call SendTask* are granted on an ARN built from it,
   * which keeps their policies from depending on the state machine resource (a dependency cycle).
   */
  readonly stateMachineName: string;
  /**
   * HumanReview's TimeoutSeconds: fires only if every time box, escalation and hold has run out.
   * Compute it with `backstopSeconds(config)`.
   */
  readonly backstopTimeout: Duration;
  /**
   * How long the execution log group keeps events.
   * @default - the config's `logRetentionDays`, else one month
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the execution log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly logRemovalPolicy?: RemovalPolicy;
}

export class ReviewStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;
  /** The state machine's ARN built from its name (no reference to the resource). */
  readonly stateMachineArnByName: string;

  constructor(scope: Construct, id: string, props: ReviewStateMachineProps) {
    super(scope, id);
    if (!/^[0-9A-Za-z_-]{1,80}$/.test(props.stateMachineName)) {
      throw new Error(
        `ReviewStateMachine ${id}: stateMachineName "${props.stateMachineName}" is not valid; use 1-80 letters, digits, "-" or "_"`,
      );
    }
    const backstop = props.backstopTimeout.toSeconds();
    if (!Number.isInteger(backstop) || backstop < 60 || backstop > MAX_TASK_TIMEOUT_SECONDS) {
      throw new Error(
        `ReviewStateMachine ${id}: backstopTimeout of ${backstop}s is outside 60s-365 days; lower the groups' maxTtlSeconds or tier count`,
      );
    }
    this.stateMachineArnByName = Stack.of(this).formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: props.stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    const route = withServiceRetries(
      new tasks.LambdaInvoke(this, STATE.route, {
        lambdaFunction: props.routeFunction,
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        payload: sfn.TaskInput.fromObject({
          input: sfn.JsonPath.entirePayload,
          executionArn: sfn.JsonPath.executionId,
          startedAt: sfn.JsonPath.executionStartTime,
        }),
      }),
    );

    const backstopTask = withServiceRetries(
      new tasks.LambdaInvoke(this, STATE.backstop, {
        lambdaFunction: props.expireFunction,
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        payload: sfn.TaskInput.fromObject({ action: 'backstop', requestId: sfn.JsonPath.stringAt('$.requestId') }),
      }),
    );

    const settle = withServiceRetries(
      new tasks.LambdaInvoke(this, STATE.settle, {
        lambdaFunction: props.settleFunction,
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        payload: sfn.TaskInput.fromObject({
          action: 'settle',
          requestId: sfn.JsonPath.stringAt('$.requestId'),
          executionArn: sfn.JsonPath.executionId,
          review: sfn.JsonPath.objectAt('$.review'),
        }),
      }),
    );

    const humanReview = withServiceRetries(
      new tasks.LambdaInvoke(this, STATE.humanReview, {
        lambdaFunction: props.requestFunction,
        integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        retryOnServiceExceptions: false,
        taskTimeout: sfn.Timeout.duration(props.backstopTimeout),
        // Keep the request id: the payload is only a claim until Settle compares it with the table.
        resultPath: '$.review',
        payload: sfn.TaskInput.fromObject({
          requestId: sfn.JsonPath.stringAt('$.requestId'),
          request: sfn.JsonPath.objectAt('$.request'),
          taskToken: sfn.JsonPath.taskToken,
          executionArn: sfn.JsonPath.executionId,
        }),
      }),
    ).addCatch(backstopTask, { errors: [sfn.Errors.TIMEOUT], resultPath: '$.timeout' });
    humanReview.next(settle);

    const definition = route.next(
      new sfn.Choice(this, STATE.routed)
        .when(
          sfn.Condition.stringEquals('$.route', 'decided'),
          // Ends the execution itself: a Succeed state after it would cost a transition and do nothing.
          new sfn.Pass(this, STATE.autoDecided, { outputPath: '$.decision' }),
        )
        .when(sfn.Condition.stringEquals('$.route', 'review'), humanReview)
        .otherwise(new sfn.Fail(this, STATE.unknownRoute, { error: 'HitlError', cause: 'The route function returned an unknown route' })),
    );

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logRetention(this),
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: props.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      queryLanguage: sfn.QueryLanguage.JSON_PATH,
      comment: 'Human review of an agent request: route, wait for a person (or a fallback), return a Decision',
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      // Execution data would put HumanReview's parameters, task token included, into the log.
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
    });
    acknowledgeWildcardResource(
      this.stateMachine.role,
      '*',
      'X-Ray trace writes and CloudWatch Logs delivery set-up (added by CDK for tracing and logging) do not support resource-level permissions.',
    );
    for (const fn of [props.routeFunction, props.requestFunction, props.expireFunction, props.settleFunction]) {
      acknowledgeWildcardResource(
        this.stateMachine.role,
        `${fn.functionArn}:*`,
        'LambdaInvoke grants the function and its qualified versions; the state machine only invokes the unqualified function.',
      );
    }
  }

  /**
   * What an agent needs to ask for a review and follow it: StartExecution on this state machine, and
   * DescribeExecution and StopExecution (cancel) on its executions. Nothing that reads execution history
   * (which holds task tokens) or sends task results.
   */
  agentPolicyStatements(): iam.PolicyStatement[] {
    const stack = Stack.of(this);
    const name = stack.splitArn(this.stateMachine.stateMachineArn, ArnFormat.COLON_RESOURCE_NAME).resourceName;
    const executions = stack.formatArn({ service: 'states', resource: 'execution', resourceName: `${name}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    return [
      new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [this.stateMachine.stateMachineArn] }),
      new iam.PolicyStatement({ actions: ['states:DescribeExecution', 'states:StopExecution'], resources: [executions] }),
    ];
  }

  /** Grant an agent `agentPolicyStatements()`. */
  grantStartReview(grantee: iam.IGrantable): iam.Grant {
    const [start, follow] = this.agentPolicyStatements();
    const grant = iam.Grant.addToPrincipal({ grantee, actions: start!.actions, resourceArns: start!.resources });
    iam.Grant.addToPrincipal({ grantee, actions: follow!.actions, resourceArns: follow!.resources });
    return grant;
  }

  /** SendTask* on this state machine, granted on the name-built ARN. */
  grantTaskResponse(grantee: iam.IGrantable, ...actions: TaskResponseAction[]): iam.Grant {
    if (actions.length === 0) {
      throw new Error(`ReviewStateMachine ${this.node.id}: name at least one SendTask* action to grant`);
    }
    return iam.Grant.addToPrincipal({
      grantee,
      actions: actions.map((a) => `states:${a}`),
      resourceArns: [this.stateMachineArnByName],
    });
  }
}

function withServiceRetries<T extends tasks.LambdaInvoke>(task: T): T {
  task.addRetry({
    errors: [...LAMBDA_SERVICE_ERRORS],
    interval: Duration.seconds(2),
    maxAttempts: 6,
    backoffRate: 2,
    jitterStrategy: sfn.JitterType.FULL,
  });
  return task;
}
