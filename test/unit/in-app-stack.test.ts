import { describe, expect, it } from 'vitest';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { REQUESTS } from '#shared/tables.ts';
import { buildStack, synthTemplate, TEST_CONFIG } from '../support/synth.ts';

const IN_APP = { issuer: 'https://auth.example.com/', audience: ['host-app'] };
const config = { ...TEST_CONFIG, inApp: IN_APP };

describe('in-app API in the stack', () => {
  it('is absent unless the config enables in-app answers', () => {
    const template = synthTemplate();
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
  });

  it('puts every route behind a JWT authorizer with the configured issuer and audience', () => {
    const template = synthTemplate({ config });
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 2);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: IN_APP.issuer, Audience: IN_APP.audience },
    });
    const routes = template.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: Match.stringLikeRegexp('/v1/') } });
    expect(Object.values(routes).map((r) => (r as { Properties: { RouteKey: string } }).Properties.RouteKey).sort()).toEqual([
      'GET /v1/requests/{requestId}',
      'GET /v1/respondents/{respondentId}/pending',
      'POST /v1/requests/{requestId}/response',
    ]);
    for (const route of Object.values(routes)) expect((route as { Properties: { AuthorizationType: string } }).Properties.AuthorizationType).toBe('JWT');
  });

  it('gives the requests table the sparse pending-by-respondent index', () => {
    const template = synthTemplate({ config });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({
          IndexName: REQUESTS.respondentIndex.name,
          KeySchema: [
            { AttributeName: REQUESTS.respondentIndex.partitionKey, KeyType: 'HASH' },
            { AttributeName: REQUESTS.respondentIndex.sortKey, KeyType: 'RANGE' },
          ],
        }),
      ]),
    });
  });

  it('passes the AWS Solutions checks (cdk-nag) with no new acknowledgement', () => {
    const { app } = buildStack({ config });
    const findings = new AwsSolutionsChecks().validateScope(app).violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
    expect(findings).toEqual([]);
    expect(Template.fromStack(buildStack({ config }).stack).findOutputs('InAppApiUrl')).not.toEqual({});
  });
});
