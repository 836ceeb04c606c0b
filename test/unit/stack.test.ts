import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { Duration } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { decodeConfigEnv, MAX_CONFIG_ENV_BYTES } from '#shared/config-env.ts';
import { ConfigError } from '#shared/errors.ts';
import { ENV } from '#shared/env.ts';
import { METRIC, METRICS_NAMESPACE } from '#shared/metrics.ts';
import { backstopSeconds } from '#shared/policies/backstop.ts';
import { parseDeploymentConfig } from '#shared/schemas/config.ts';
import { DECISION_LOG, REQUESTS } from '#shared/tables.ts';
import { ExpiryScheduling } from '#infra/constructs/expiry-scheduling.ts';
import { HandlerFunction } from '#infra/constructs/handler-function.ts';
import { HANDLER_ENTRIES, type HandlerName } from '#infra/constructs/review-functions.ts';
import { ReviewStateMachine } from '#infra/constructs/review-state-machine.ts';
import { buildStack, logicalId, stateMachineDefinition, synthTemplate, TEST_CONFIG, TEST_STACK_NAME } from '../support/synth.ts';

type Json = Record<string, unknown>;
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Json;
}

const list = <T>(x: T | T[]): T[] => (Array.isArray(x) ? x : [x]);

let template: Template;
let resources: Record<string, Json>;
beforeAll(() => {
  template = synthTemplate();
  resources = template.toJSON().Resources as Record<string, Json>;
});

function props(id: string): Json {
  return (resources[id] as { Properties: Json }).Properties;
}

/** Logical id of the Lambda function whose `hitl:handler` metadata names this handler. */
function functionId(name: HandlerName): string {
  const [id] = Object.entries(template.findResources('AWS::Lambda::Function', { Metadata: { 'hitl:handler': HANDLER_ENTRIES[name] } }));
  if (!id) throw new Error(`no function for ${name}`);
  return id[0];
}

function functionEnv(name: HandlerName): Json {
  return (props(functionId(name)).Environment as { Variables: Json }).Variables;
}

/** Every Allow statement attached to a role (its inline policies and AWS::IAM::Policy resources). */
function statementsOfRole(roleId: string): Statement[] {
  const out: Statement[] = [];
  for (const r of Object.values(resources)) {
    const p = (r as { Properties?: Json }).Properties ?? {};
    if (r.Type === 'AWS::IAM::Policy' && JSON.stringify(p.Roles) === JSON.stringify([{ Ref: roleId }])) {
      out.push(...((p.PolicyDocument as { Statement: Statement[] }).Statement ?? []));
    }
  }
  for (const policy of (props(roleId).Policies as { PolicyDocument: { Statement: Statement[] } }[] | undefined) ?? []) {
    out.push(...policy.PolicyDocument.Statement);
  }
  return out.filter((s) => s.Effect === 'Allow');
}

function roleOfFunction(name: HandlerName): string {
  return ((props(functionId(name)).Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'])[0];
}

/** `dynamodb:PutItem@log`, `states:SendTaskSuccess`, …: what a function's role may do, tables named by role. */
function permissionsOf(name: HandlerName): string[] {
  const requestsId = logicalId(template, 'AWS::DynamoDB::Table', 'TablesRequests');
  const logId = logicalId(template, 'AWS::DynamoDB::Table', 'TablesDecisionLog');
  const out = new Set<string>();
  for (const s of statementsOfRole(roleOfFunction(name))) {
    const res = JSON.stringify(s.Resource);
    for (const action of list(s.Action)) {
      if (!action.startsWith('dynamodb:')) out.add(action);
      else {
        if (res.includes(requestsId)) out.add(`${action}@requests`);
        if (res.includes(logId)) out.add(`${action}@log`);
      }
    }
  }
  return [...out].sort();
}

const allStatements = (): Statement[] =>
  Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Role')
    .flatMap(([id]) => statementsOfRole(id));

describe('tables', () => {
  it('keeps both tables: on-demand, point-in-time recovery, deletion protection, retained, TTL on purgeAt', () => {
    for (const prefix of ['TablesRequests', 'TablesDecisionLog']) {
      const id = logicalId(template, 'AWS::DynamoDB::Table', prefix);
      expect(resources[id]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
      expect(props(id)).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        TimeToLiveSpecification: { AttributeName: 'purgeAt', Enabled: true },
      });
    }
  });

  it('lays out keys and indexes as shared/tables.ts says', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: REQUESTS.partitionKey, KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'pending-by-age',
          KeySchema: [
            { AttributeName: 'pendingGroup', KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
        },
        {
          IndexName: 'pending-by-respondent',
          KeySchema: [
            { AttributeName: 'pendingRespondent', KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
        },
      ],
    });
    const gsi = (name: string, pk: string) =>
      Match.objectLike({ IndexName: name, KeySchema: [{ AttributeName: pk, KeyType: 'HASH' }, { AttributeName: 'at', KeyType: 'RANGE' }] });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: DECISION_LOG.partitionKey, KeyType: 'HASH' },
        { AttributeName: 'eventKey', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [gsi('decisions-by-agent', 'agent'), gsi('decisions-by-action', 'actionType'), gsi('decisions-by-day', 'day')],
    });
    for (const id of [logicalId(template, 'AWS::DynamoDB::Table', 'TablesRequests'), logicalId(template, 'AWS::DynamoDB::Table', 'TablesDecisionLog')]) {
      for (const def of props(id).AttributeDefinitions as { AttributeType: string }[]) expect(def.AttributeType).toBe('S');
    }
  });

  it('a dev config destroys tables, logs and the secret on stack deletion and drops deletion protection', () => {
    const dev = synthTemplate({ config: { ...TEST_CONFIG, dev: true } });
    const tables = dev.findResources('AWS::DynamoDB::Table');
    expect(Object.keys(tables)).toHaveLength(2);
    for (const t of Object.values(tables)) {
      expect(t).toMatchObject({ DeletionPolicy: 'Delete', Properties: { DeletionProtectionEnabled: false } });
    }
    for (const type of ['AWS::Logs::LogGroup', 'AWS::SecretsManager::Secret', 'AWS::SQS::Queue', 'AWS::Scheduler::ScheduleGroup']) {
      for (const r of Object.values(dev.findResources(type))) expect(r.DeletionPolicy).toBe('Delete');
    }
    // and the production template keeps them
    for (const type of ['AWS::Logs::LogGroup', 'AWS::SecretsManager::Secret']) {
      for (const r of Object.values(template.findResources(type))) expect(r.DeletionPolicy).toBe('Retain');
    }
  });
});

describe('functions', () => {
  it('builds each handler for nodejs22.x on arm64 with its own log group kept a month', () => {
    for (const name of Object.keys(HANDLER_ENTRIES) as HandlerName[]) {
      const p = props(functionId(name));
      expect(p).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
      const logGroupId = ((p.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup).Ref;
      expect(props(logGroupId).RetentionInDays).toBe(30);
      // Source maps are off unless the config asks (see the sourceMaps test).
      expect(functionEnv(name)).not.toHaveProperty('NODE_OPTIONS');
      expect(functionEnv(name)).toMatchObject({
        POWERTOOLS_SERVICE_NAME: 'hitl',
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        [ENV.requestsTable]: { Ref: logicalId(template, 'AWS::DynamoDB::Table', 'TablesRequests') },
        [ENV.decisionsTable]: { Ref: logicalId(template, 'AWS::DynamoDB::Table', 'TablesDecisionLog') },
      });
      // The config as the functions parse it: defaults applied, same result.
      const config = decodeConfigEnv(functionEnv(name)[ENV.config] as string, ENV.config);
      expect(config).toEqual(parseDeploymentConfig(TEST_CONFIG));
      expect(parseDeploymentConfig(config)).toEqual(config);
    }
    // The six handlers, the decision stream (test/unit/analytics-stack.test.ts) and the conclude function (test/unit/outcome-notices-stack.test.ts).
    expect(Object.keys(template.findResources('AWS::Lambda::Function'))).toHaveLength(8);
  });

  it('runs every function with source-mapped stack traces when the config sets sourceMaps', () => {
    const mapped = synthTemplate({ config: { ...TEST_CONFIG, sourceMaps: true } });
    const functions = Object.values(mapped.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(Object.keys(template.findResources('AWS::Lambda::Function')).length);
    for (const fn of functions) expect(fn.Properties.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
  });

  it('gives each function only the variables it uses; the expire function never gets its own ARN', () => {
    const expireArn = { 'Fn::GetAtt': [functionId('expire'), 'Arn'] };
    const link = [ENV.signingSecretId, ENV.scheduleGroup, ENV.schedulerRoleArn, ENV.scheduleDlqArn, ENV.baseUrl];
    for (const name of ['request', 'respond', 'expire'] as const) {
      for (const v of link) expect(functionEnv(name)).toHaveProperty([v]);
      expect(functionEnv(name)[ENV.scheduleGroup]).toBe(`${TEST_STACK_NAME}-expiry`);
    }
    expect(functionEnv('request')[ENV.expireFunctionArn]).toEqual(expireArn);
    expect(functionEnv('respond')[ENV.expireFunctionArn]).toEqual(expireArn);
    expect(functionEnv('expire')).not.toHaveProperty([ENV.expireFunctionArn]);
    const apiId = logicalId(template, 'AWS::ApiGatewayV2::Api', 'ApiHttpApi');
    for (const name of ['request', 'respond', 'expire'] as const) expect(JSON.stringify(functionEnv(name)[ENV.baseUrl])).toContain(apiId);
    for (const name of ['route', 'monitor'] as const) {
      for (const v of [...link, ENV.expireFunctionArn]) expect(functionEnv(name)).not.toHaveProperty([v]);
    }
  });

  it('runs the monitor every minute', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId('monitor'), 'Arn'] } })],
    });
  });
});

describe('least privilege', () => {
  it('never lets anything update, delete or batch-write the decision log, or scan or delete requests', () => {
    const logId = logicalId(template, 'AWS::DynamoDB::Table', 'TablesDecisionLog');
    const statements = allStatements();
    expect(statements.length).toBeGreaterThan(10);
    for (const s of statements) {
      const actions = list(s.Action);
      for (const a of actions) expect(a).not.toMatch(/^dynamodb:(DeleteItem|Scan|BatchWriteItem|\*|Delete.*|Update(Table|TimeToLive))$/);
      if (JSON.stringify(s.Resource) === JSON.stringify({ 'Fn::GetAtt': [logId, 'StreamArn'] })) {
        // The decision stream function reads the log's stream, and only that.
        for (const a of actions) expect(['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator']).toContain(a);
      } else if (JSON.stringify(s.Resource).includes(logId)) {
        for (const a of actions) expect(['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:Query']).toContain(a);
      }
    }
  });

  it('grants each function exactly what its job needs', () => {
    const logs = ['logs:CreateLogStream', 'logs:PutLogEvents'];
    const linkAndSchedules = [
      'iam:PassRole',
      'scheduler:CreateSchedule',
      'scheduler:DeleteSchedule',
      'scheduler:GetSchedule',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'ses:SendEmail',
      'ses:SendRawEmail',
    ];
    const sorted = (xs: string[]) => [...xs].sort();
    // Route, respond, expire, settle and monitor end requests and put their hitl.decision events on the bus.
    const publish = ['events:PutEvents'];
    // Expire, settle and monitor also run asynchronously: Lambda sends an event that failed every retry to the dead-letter queue.
    const deadLetters = ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'];
    expect(permissionsOf('route')).toEqual(sorted([...logs, ...publish, 'dynamodb:GetItem@requests', 'dynamodb:PutItem@requests', 'dynamodb:UpdateItem@requests', 'dynamodb:PutItem@log']));
    expect(permissionsOf('request')).toEqual(
      sorted([
        ...logs,
        ...linkAndSchedules,
        'dynamodb:GetItem@requests',
        'dynamodb:PutItem@requests',
        'dynamodb:UpdateItem@requests',
        'dynamodb:PutItem@log',
        'states:SendTaskSuccess',
      ]),
    );
    for (const name of ['respond', 'expire', 'settle'] as const) {
      expect(permissionsOf(name)).toEqual(
        sorted([
          ...logs,
          ...publish,
          // A cancel (settle) emails nobody: the conclude function tells the other reviewers.
          ...(name === 'settle' ? linkAndSchedules.filter((a) => !a.startsWith('ses:')) : linkAndSchedules),
          // The web inbox lists each group's queue.
          ...(name === 'respond' ? ['dynamodb:Query@requests'] : deadLetters),
          'dynamodb:GetItem@requests',
          'dynamodb:UpdateItem@requests',
          'dynamodb:PutItem@log',
          'states:SendTaskFailure',
          'states:SendTaskSuccess',
        ]),
      );
    }
    // The monitor also finishes resumes a crash left undone.
    expect(permissionsOf('monitor')).toEqual(
      sorted([...logs, ...publish, ...deadLetters, 'dynamodb:Query@requests', 'dynamodb:GetItem@requests', 'dynamodb:UpdateItem@requests', 'dynamodb:PutItem@log', 'states:SendTaskSuccess']),
    );
    // …and the monitor's Query reaches the pending index only, not the table.
    const monitorQuery = statementsOfRole(roleOfFunction('monitor')).find((s) => list(s.Action).includes('dynamodb:Query') && list(s.Action).length === 1);
    expect(JSON.stringify(monitorQuery?.Resource)).toContain('/index/pending-by-age');
    expect(list(monitorQuery?.Resource)).toHaveLength(1);
  });

  it('lets functions put events on the stack’s decision bus only, named in HITL_EVENT_BUS_NAME', () => {
    const busId = logicalId(template, 'AWS::Events::EventBus', 'DecisionBus');
    template.hasResourceProperties('AWS::Events::EventBus', { Name: `${TEST_STACK_NAME}-decisions` });
    for (const name of ['route', 'respond', 'expire', 'settle', 'monitor'] as const) {
      expect(functionEnv(name)[ENV.eventBusName]).toEqual({ Ref: busId });
      const puts = statementsOfRole(roleOfFunction(name)).filter((s) => list(s.Action).includes('events:PutEvents'));
      expect(puts).toHaveLength(1);
      expect(puts[0]!.Resource).toEqual({ 'Fn::GetAtt': [busId, 'Arn'] });
    }
    expect(functionEnv('request')).not.toHaveProperty([ENV.eventBusName]);
  });

  it('scopes SendTask*, SES, schedules and PassRole to this stack’s resources', () => {
    const smArn = {
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':states:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:stateMachine:${TEST_STACK_NAME}-review`]],
    };
    const schedulerRoleId = logicalId(template, 'AWS::IAM::Role', 'ExpirySchedulerRole');
    for (const name of ['request', 'respond', 'expire'] as const) {
      const statements = statementsOfRole(roleOfFunction(name));
      const byAction = (prefix: string) => statements.filter((s) => list(s.Action).some((a) => a.startsWith(prefix)));
      for (const s of byAction('states:')) expect(s.Resource).toEqual(smArn);
      for (const s of byAction('ses:')) {
        expect(s.Condition).toEqual({ StringEquals: { 'ses:FromAddress': TEST_CONFIG.sender } });
        expect(JSON.stringify(s.Resource)).toContain(':identity/hitl@example.com');
      }
      for (const s of byAction('scheduler:')) expect(JSON.stringify(s.Resource)).toContain(`:schedule/${TEST_STACK_NAME}-expiry/*`);
      const passRole = byAction('iam:PassRole');
      expect(passRole).toHaveLength(1);
      expect(passRole[0]?.Resource).toEqual({ 'Fn::GetAtt': [schedulerRoleId, 'Arn'] });
    }
    // The state machine ARN is built from the name, and the name is what the state machine uses.
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineName: `${TEST_STACK_NAME}-review` });
  });
});

describe('state machine', () => {
  it('is a Standard machine that logs ALL events (without execution data) and traces with X-Ray', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false },
      TracingConfiguration: { Enabled: true },
    });
  });

  it('times HumanReview out at the backstop: every tier or a weekend hold, plus grace', () => {
    const definition = stateMachineDefinition(template);
    // support-leads: hold = 2 × 7200s + Fri 17:00 → Mon 09:00 (230400s) = 244800s > 2 tiers × 7200s; + 3600s grace.
    expect(definition.States.HumanReview?.TimeoutSeconds).toBe(248400);
    expect(backstopSeconds(parseDeploymentConfig(TEST_CONFIG))).toBe(248400);
  });
});

describe('reviewer API', () => {
  it('routes GET, HEAD and POST /r/{requestId} and the web inbox to the respond function', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map((r) => (r.Properties as Json).RouteKey);
    const methods = (path: string) => ['GET', 'HEAD', 'POST'].map((m) => `${m} ${path}`);
    expect(routes.sort()).toEqual([...methods('/inbox'), ...methods('/inbox/{proxy+}'), ...methods('/r/{requestId}')].sort());
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: { 'Fn::GetAtt': [functionId('respond'), 'Arn'] },
      PayloadFormatVersion: '2.0',
    });
  });

  it('throttles the default stage and writes JSON access logs without query strings', () => {
    const [stage] = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'));
    const p = stage?.Properties as {
      StageName: string;
      AutoDeploy: boolean;
      DefaultRouteSettings: Json;
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [string, string] }; Format: string };
    };
    expect(p.StageName).toBe('$default');
    expect(p.AutoDeploy).toBe(true);
    expect(p.DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 });
    expect(resources[p.AccessLogSettings.DestinationArn['Fn::GetAtt'][0]]?.Type).toBe('AWS::Logs::LogGroup');
    const format = JSON.parse(p.AccessLogSettings.Format) as Json;
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status', routeKey: '$context.routeKey' });
    expect(p.AccessLogSettings.Format).not.toMatch(/querystring|requestOverride/i);
  });

  it('takes throttling from the config', () => {
    synthTemplate({ config: { ...TEST_CONFIG, api: { rateLimit: 5, burstLimit: 10 } } }).hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
    });
    expect(() => buildStack({ config: { ...TEST_CONFIG, api: { rateLimit: 0 } } })).toThrow(/api\.rateLimit/);
  });
});

describe('link signing secret', () => {
  it('is generated as {"current":"k1","k1":<64 letters and digits>}', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: {
        SecretStringTemplate: '{"current":"k1"}',
        GenerateStringKey: 'k1',
        PasswordLength: 64,
        ExcludePunctuation: true,
        IncludeSpace: false,
      },
    });
  });
});

describe('expiry scheduling', () => {
  it('owns a schedule group and a role only the Scheduler of this account can assume', () => {
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: `${TEST_STACK_NAME}-expiry` });
    const roleId = logicalId(template, 'AWS::IAM::Role', 'ExpirySchedulerRole');
    expect(props(roleId).AssumeRolePolicyDocument).toMatchObject({
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
        },
      ],
    });
    const dlqId = logicalId(template, 'AWS::SQS::Queue', 'ExpiryDeadLetterQueue');
    const statements = statementsOfRole(roleId);
    expect(statements.map((s) => [list(s.Action).sort(), s.Resource])).toEqual([
      [['lambda:InvokeFunction'], { 'Fn::GetAtt': [functionId('expire'), 'Arn'] }],
      [['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'], { 'Fn::GetAtt': [dlqId, 'Arn'] }],
    ]);
  });

  it('keeps failed schedule deliveries in an encrypted, TLS-only DLQ', () => {
    const dlqId = logicalId(template, 'AWS::SQS::Queue', 'ExpiryDeadLetterQueue');
    expect(props(dlqId)).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86400 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: dlqId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('alarms', () => {
  it('alarms per reviewer group on the oldest pending request, at the configured age', () => {
    for (const group of Object.keys(TEST_CONFIG.reviewerGroups)) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: METRICS_NAMESPACE,
        MetricName: METRIC.oldestPendingAge,
        // All the dimensions the monitor emits (see stack-metrics.test.ts), sorted.
        Dimensions: [
          { Name: 'ReviewerGroup', Value: group },
          { Name: 'fn', Value: 'monitor' },
          { Name: 'service', Value: 'hitl' },
        ],
        Statistic: 'Maximum',
        Threshold: 900,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
  });

  it('alarms on DLQ depth, failed executions, forged resumes and each function’s errors, notifying the alarm topic', () => {
    const topic = { Ref: logicalId(template, 'AWS::SNS::Topic', 'AlarmsTopic') };
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(template, 'AWS::SQS::Queue', 'ExpiryDeadLetterQueue'), 'QueueName'] } }],
      Threshold: 2,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [topic],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/States',
      MetricName: 'ExecutionsFailed',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [topic],
    });
    for (const name of Object.keys(HANDLER_ENTRIES) as HandlerName[]) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId(name) } }],
        Threshold: 1,
        AlarmActions: [topic],
      });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Hitl',
      MetricName: 'ForgedResumes',
      Dimensions: Match.arrayWith([{ Name: 'fn', Value: 'settle' }, { Name: 'service', Value: 'hitl' }]),
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [topic],
    });
    // Two groups' oldest pending, the expiry DLQ, failed executions, forged resumes, six functions' errors, the decision stream's two.
    expect(Object.keys(template.findResources('AWS::CloudWatch::Alarm'))).toHaveLength(2 + 1 + 1 + 1 + 6 + 2);
  });

  it('cancels the request of an execution that was stopped, failed or timed out', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.states'],
        'detail-type': ['Step Functions Execution Status Change'],
        detail: { status: ['ABORTED', 'FAILED', 'TIMED_OUT'], stateMachineArn: [{ Ref: logicalId(template, 'AWS::StepFunctions::StateMachine', 'WorkflowStateMachine') }] },
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionId('settle'), 'Arn'] }, RetryPolicy: Match.anyValue(), DeadLetterConfig: Match.anyValue() })],
    });
  });
});

describe('outputs', () => {
  it('exports what agents, scripts and operators look up', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    for (const name of ['StateMachineArn', 'ReviewApiUrl', 'RequestsTableName', 'DecisionLogTableName', 'SigningSecretArn', 'ScheduleGroupName']) {
      expect(outputs).toHaveProperty([name]);
    }
    expect(outputs.ScheduleGroupName?.Value).toBe(`${TEST_STACK_NAME}-expiry`);
    expect(outputs.StateMachineArn?.Value).toEqual({ Ref: logicalId(template, 'AWS::StepFunctions::StateMachine', 'WorkflowStateMachine') });
  });
});

describe('config validation', () => {
  it('refuses a misconfigured reviewer group, naming the field', () => {
    const bad = structuredClone(TEST_CONFIG) as { reviewerGroups: Record<string, { tiers: { members: string[] }[] }> };
    bad.reviewerGroups['support-leads']!.tiers[0]!.members[0] = 'not-an-email';
    expect(() => buildStack({ config: bad })).toThrow(ConfigError);
    expect(() => buildStack({ config: bad })).toThrow(/reviewerGroups\.support-leads\.tiers\.0\.members\.0/);
  });

  it('compresses a config too large as JSON, and refuses one too large even compressed', () => {
    const many = Array.from({ length: 100 }, (_, i) => `reviewer-${i}@example.com`);
    const large = { ...TEST_CONFIG, reviewerGroups: { ...TEST_CONFIG.reviewerGroups, everyone: { tiers: [{ name: 'all', members: many }] } } };
    expect(JSON.stringify(parseDeploymentConfig(large)).length).toBeGreaterThan(MAX_CONFIG_ENV_BYTES);
    const env = Object.values(synthTemplate({ config: large }).findResources('AWS::Lambda::Function')).map((f) => (f.Properties as { Environment: { Variables: Record<string, string> } }).Environment.Variables[ENV.config]!);
    expect(env[0]).toMatch(/^gzip:/);
    expect(decodeConfigEnv(env[0]!, ENV.config)).toEqual(parseDeploymentConfig(large));
    // Addresses that hardly compress: 200 of them are over the limit even gzip'd.
    const members = Array.from({ length: 200 }, (_, i) => `${createHash('sha256').update(String(i)).digest('hex').slice(0, 20)}@example.com`);
    const big = { ...TEST_CONFIG, reviewerGroups: { everyone: { tiers: [{ name: 'all', members }] } } };
    expect(() => buildStack({ config: big })).toThrow(/Lambda allows 4 KB/);
  });
});

describe('CloudFormation', () => {
  it('passes CDK’s built-in template validation', () => {
    const { app } = buildStack({ validateTemplate: true });
    expect(() => app.synth()).not.toThrow();
  });
});

describe('construct props', () => {
  it('are validated with the bad value and the fix in the message', () => {
    const { stack } = buildStack();
    const fn = stack.functions.expire.function;
    expect(() => new HandlerFunction(stack, 'Outside', { entry: 'infra/app.ts' })).toThrow(/entry "infra\/app\.ts" must be a \.ts file under functions\//);
    expect(() => new HandlerFunction(stack, 'Missing', { entry: 'functions/nope.ts' })).toThrow(/functions\/nope\.ts does not exist/);
    expect(() => new ExpiryScheduling(stack, 'BadGroup', { expireFunction: fn, scheduleGroupName: 'has spaces' })).toThrow(/"has spaces" is not a valid schedule group name/);
    expect(
      () =>
        new ReviewStateMachine(stack, 'TooLong', {
          routeFunction: fn,
          requestFunction: fn,
          expireFunction: fn,
          settleFunction: fn,
          stateMachineName: 'x',
          backstopTimeout: Duration.days(400),
        }),
    ).toThrow(/backstopTimeout of 34560000s is outside 60s-365 days/);
  });
});

describe('agent access', () => {
  it('exports a managed policy that lets an agent start, follow and cancel reviews, and nothing that reads task tokens', () => {
    const id = Object.keys(template.findResources('AWS::IAM::ManagedPolicy')).find((k) => k.startsWith('AgentPolicy'));
    const doc = (template.toJSON().Resources[id!].Properties as { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } }).PolicyDocument;
    const actions = doc.Statement.flatMap((s) => list(s.Action)).sort();
    expect(actions).toEqual(['states:DescribeExecution', 'states:StartExecution', 'states:StopExecution']);
    expect(JSON.stringify(doc)).not.toMatch(/GetExecutionHistory|SendTask/);
    const executions = JSON.stringify(doc.Statement.find((s) => list(s.Action).includes('states:StopExecution'))?.Resource);
    expect(executions).toContain(':execution:');
    expect(executions).toContain(':*"');
    template.hasOutput('AgentPolicyArn', { Value: { Ref: id } });
  });
});
