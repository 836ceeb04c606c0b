import { describe, expect, it } from 'vitest';
import { ENV } from '#shared/env.ts';
import { logicalId, SLACK_TEST_CONFIG, synthTemplate } from '../support/synth.ts';

const SECRET = 'AWS::SecretsManager::Secret';

describe('Slack channel in the stack', () => {
  it('is absent unless the config enables Slack', () => {
    const template = synthTemplate();
    expect(Object.keys(template.findResources(SECRET)).filter((id) => id.startsWith('SlackChannel'))).toEqual([]);
    template.resourcePropertiesCountIs('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /slack/interactions' }, 0);
  });

  it('adds the secret, the interactions route to the respond function, and the secret to the functions that post', () => {
    const template = synthTemplate({ config: SLACK_TEST_CONFIG });
    const secret = logicalId(template, SECRET, 'SlackChannelSecret');
    template.hasResource(SECRET, { DeletionPolicy: 'Retain' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /slack/interactions', AuthorizationType: 'NONE' });

    const withSecret = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([, r]) => (r as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties.Environment?.Variables?.[ENV.slackSecretId]);
    // Settle ends requests and reaches nobody: the conclude function (NoticesHandler) updates the message.
    expect(withSecret.map(([id]) => id.replace(/Function[A-F0-9]{8}$/, '')).sort()).toEqual(['FunctionsExpire', 'FunctionsRequest', 'FunctionsRespond', 'NoticesHandler']);
    for (const [, fn] of withSecret) expect((fn as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables[ENV.slackSecretId]).toEqual({ Ref: secret });

    // Only those four roles may read it, and only GetSecretValue / DescribeSecret.
    const readers = Object.entries(template.findResources('AWS::IAM::Policy')).flatMap(([id, r]) =>
      (r as { Properties: { PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } } }).Properties.PolicyDocument.Statement.filter((st) => JSON.stringify(st.Resource).includes(`"${secret}"`)).map((st) => ({ id, actions: [st.Action].flat().sort() })),
    );
    expect(readers.map((r) => r.id.replace(/RoleDefaultPolicy[A-F0-9]{8}$/, '')).sort()).toEqual(['FunctionsExpire', 'FunctionsRequest', 'FunctionsRespond', 'NoticesHandler']);
    for (const r of readers) expect(r.actions).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
  });
});
