/** The conclude function in the stack: always on, run by a rule on the decision bus, with only the rights it uses. */
import { describe, expect, it } from 'vitest';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { ENV } from '#shared/env.ts';
import { CONCLUDE_HANDLER_ENTRY } from '#infra/constructs/outcome-notices.ts';
import { logicalId, SLACK_TEST_CONFIG, synthTemplate, TEST_CONFIG } from '../support/synth.ts';

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };

function concludeFunction(template: Template): string {
  const [id, ...others] = Object.keys(template.findResources('AWS::Lambda::Function', { Metadata: { 'hitl:handler': CONCLUDE_HANDLER_ENTRY } }));
  expect(others).toEqual([]);
  return id!;
}

function statementsOf(template: Template, fn: string): Statement[] {
  const role = template.toJSON().Resources[fn].Properties.Role['Fn::GetAtt'][0] as string;
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(role))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

describe('conclude function in the stack', () => {
  it('gets every hitl.decision event from the decision bus, retried, with a dead-letter queue', () => {
    const template = synthTemplate();
    const fn = concludeFunction(template);
    const dlq = logicalId(template, 'AWS::SQS::Queue', 'ExpiryDeadLetterQueue');
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: logicalId(template, 'AWS::Events::EventBus', 'DecisionBus') },
      EventPattern: { source: ['hitl'], 'detail-type': ['hitl.decision'] },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [fn, 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlq, 'Arn'] } },
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fn },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlq, 'Arn'] } } },
    });
  });

  it('may read a row and claim its notices, and send email from the configured sender only; nothing else', () => {
    const template = synthTemplate();
    const fn = concludeFunction(template);
    const statements = statementsOf(template, fn);
    const actions = statements.flatMap((s) => [s.Action].flat()).sort();
    // The sqs: actions are the failed-invocation destination's (the dead-letter queue).
    expect(actions).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem', 'logs:CreateLogStream', 'logs:PutLogEvents', 'ses:SendEmail', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'].sort());
    const table = statements.find((s) => [s.Action].flat().includes('dynamodb:GetItem'))!;
    expect(table.Resource).toEqual({ 'Fn::GetAtt': [logicalId(template, 'AWS::DynamoDB::Table', 'TablesRequests'), 'Arn'] });
    const ses = statements.find((s) => [s.Action].flat().includes('ses:SendEmail'))!;
    expect(ses.Condition).toEqual({ StringEquals: { 'ses:FromAddress': TEST_CONFIG.sender } });
    expect(JSON.stringify(ses.Resource)).toContain(':identity/hitl@example.com');
    // No bus to put on, no link keys, no Step Functions: its environment names the tables and the config only.
    const env = template.toJSON().Resources[fn].Properties.Environment.Variables as Record<string, unknown>;
    for (const v of [ENV.eventBusName, ENV.signingSecretId, ENV.slackSecretId, ENV.baseUrl]) expect(env).not.toHaveProperty([v]);
    expect(env).toHaveProperty([ENV.requestsTable]);
    expect(env).toHaveProperty([ENV.config]);
  });

  it('reads the Slack app secret when Slack is on; the settle function no longer sends email', () => {
    const template = synthTemplate({ config: SLACK_TEST_CONFIG });
    const fn = concludeFunction(template);
    const secret = logicalId(template, 'AWS::SecretsManager::Secret', 'SlackChannelSecret');
    expect(template.toJSON().Resources[fn].Properties.Environment.Variables[ENV.slackSecretId]).toEqual({ Ref: secret });
    const reads = statementsOf(template, fn).filter((s) => JSON.stringify(s.Resource).includes(`"${secret}"`));
    expect(reads.flatMap((s) => [s.Action].flat()).sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);

    const [settle] = Object.keys(template.findResources('AWS::Lambda::Function', { Metadata: { 'hitl:handler': 'functions/settle.ts' } }));
    expect(statementsOf(template, settle!).flatMap((s) => [s.Action].flat()).filter((a) => a.startsWith('ses:'))).toEqual([]);
  });
});
