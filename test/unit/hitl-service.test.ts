/**
 * The HitlService construct in a stack of your own: the same resources as HitlStack (which uses it under the
 * id `Default`, so its logical ids did not change), removal policies, API throttles, an existing alarm topic,
 * alarm emails and a custom link domain as props; bad props fail naming the fix. Also: the shipped cdk.json is
 * not a dev config, and `-c hitlDev=true` makes one.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ENV } from '#shared/env.ts';
import { readConfigSource } from '#infra/config.ts';
import { HitlService, HumanReview, HitlStack } from '#infra/index.ts';
import { buildStack, cdkJsonFeatureFlags, synthTemplate, TEST_CONFIG, TEST_STACK_NAME } from '../support/synth.ts';

type Resources = Record<string, { Type: string; DeletionPolicy?: string; Properties?: Record<string, unknown> }>;

function ownStack(props: Partial<ConstructorParameters<typeof HitlService>[2]> = {}, id = 'Hitl', stackName = 'MyApp'): { stack: Stack; service: HitlService; template: Template } {
  const app = new App({ context: { ...cdkJsonFeatureFlags(), 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, stackName);
  const service = new HitlService(stack, id, { config: TEST_CONFIG, ...props });
  return { stack, service, template: Template.fromStack(stack) };
}

function resourcesOf(template: Template): Resources {
  return template.toJSON().Resources as Resources;
}

function baseUrls(template: Template): unknown[] {
  return Object.values(template.findResources('AWS::Lambda::Function'))
    .map((f) => (f.Properties as { Environment?: { Variables?: Record<string, unknown> } }).Environment?.Variables?.[ENV.baseUrl])
    .filter((v) => v !== undefined);
}

describe('HitlService', () => {
  it('is what HitlStack holds: same resources and logical ids under the hidden id Default', () => {
    const { stack } = buildStack();
    expect(stack.service).toBeInstanceOf(HitlService);
    expect(stack.service.node.id).toBe('Default');
    expect(stack.tables).toBe(stack.service.tables);
    const fromStack = resourcesOf(Template.fromStack(stack));
    // The logical ids HitlStack had before the construct existed, e.g. the tables and the state machine.
    expect(fromStack).toHaveProperty(['TablesRequests3CA232D6']);
    expect(fromStack).toHaveProperty(['TablesDecisionLog1A55E7CF']);
    expect(fromStack).toHaveProperty(['SigningSecret63A7F3CE']);
    expect(Object.keys(fromStack).filter((k) => fromStack[k]!.Type === 'AWS::StepFunctions::StateMachine')).toEqual([expect.stringMatching(/^WorkflowStateMachine/)]);

    const { template } = ownStack({}, 'Default', TEST_STACK_NAME);
    expect(Object.keys(resourcesOf(template)).sort()).toEqual(Object.keys(fromStack).sort());
  });

  it('in a stack of its own, names resources after `name` and keeps data by default', () => {
    const { template, service } = ownStack({ name: 'Support' });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { StateMachineName: 'Support-review' });
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'Support-expiry' });
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'Support-decisions' });
    for (const [, r] of Object.entries(resourcesOf(template)).filter(([, r]) => r.Type === 'AWS::DynamoDB::Table')) {
      expect(r).toMatchObject({ DeletionPolicy: 'Retain', Properties: { DeletionProtectionEnabled: true } });
    }
    expect(service.publicBaseUrl).toBe(service.api.url);
    // It can be handed to a HumanReview step of the same stack.
    const review = new HumanReview(Stack.of(service), 'Ask', {
      reviewStateMachine: service.workflow.stateMachine,
      request: { kind: 'approval', agent: 'a', reason: 'r', risk: { class: 'financial', reversible: false }, reviewerGroup: 'finance' },
    });
    expect(review.decisionPath).toBe('$.reviews.Ask.decision');
  });

  it('takes removal policies, throttles, an existing alarm topic, alarm emails and a custom link domain', () => {
    const app = new App({ context: { ...cdkJsonFeatureFlags(), 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Ops');
    const topic = new sns.Topic(stack, 'OnCall');
    new HitlService(stack, 'Hitl', {
      config: TEST_CONFIG,
      tableRemovalPolicy: RemovalPolicy.DESTROY,
      removalPolicy: RemovalPolicy.RETAIN,
      apiThrottle: { rateLimit: 7, burstLimit: 9 },
      alarmTopic: topic,
      alarmEmails: ['ops@example.com'],
      publicBaseUrl: 'https://review.example.com',
    });
    const template = Template.fromStack(stack);
    const resources = resourcesOf(template);
    for (const r of Object.values(resources).filter((r) => r.Type === 'AWS::DynamoDB::Table')) {
      expect(r).toMatchObject({ DeletionPolicy: 'Delete', Properties: { DeletionProtectionEnabled: false } });
    }
    for (const r of Object.values(resources).filter((r) => r.Type === 'AWS::Logs::LogGroup' || r.Type === 'AWS::SecretsManager::Secret')) expect(r.DeletionPolicy).toBe('Retain');
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', { DefaultRouteSettings: { ThrottlingRateLimit: 7, ThrottlingBurstLimit: 9 } });
    // No topic of its own: the alarms notify the one given, which gets the email subscription.
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::SNS::Topic')).toHaveLength(1);
    const topicId = Object.keys(resources).find((k) => resources[k]!.Type === 'AWS::SNS::Topic')!;
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: { Ref: topicId } });
    for (const alarm of Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties?.AlarmActions)) {
      expect(alarm.Properties!.AlarmActions).toEqual([{ Ref: topicId }]);
    }
    expect(baseUrls(template).length).toBeGreaterThan(0);
    for (const url of baseUrls(template)) expect(url).toBe('https://review.example.com');
  });

  it('reads publicBaseUrl and alarm emails from the config, and HitlStack outputs the link base URL', () => {
    const stack = buildStack({ config: { ...TEST_CONFIG, publicBaseUrl: 'https://review.example.com/hitl', alarms: { ...TEST_CONFIG.alarms, emails: ['oncall@example.com'] } } }).stack;
    const template = Template.fromStack(stack);
    for (const url of baseUrls(template)) expect(url).toBe('https://review.example.com/hitl');
    template.hasOutput('ReviewLinkBaseUrl', { Value: 'https://review.example.com/hitl' });
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    // Without them: links on the API's own URL, no subscription, no extra output.
    const plain = synthTemplate();
    expect(Object.keys(plain.findResources('AWS::SNS::Subscription'))).toHaveLength(0);
    expect(Object.keys(plain.findOutputs('ReviewLinkBaseUrl'))).toHaveLength(0);
  });

  it('refuses bad props with the value and the fix', () => {
    expect(() => ownStack({ publicBaseUrl: 'http://review.example.com' })).toThrow(/publicBaseUrl "http:\/\/review\.example\.com" must be an https URL/);
    expect(() => ownStack({ name: '1st' })).toThrow(/name "1st" must be 1-61 letters/);
    expect(() => ownStack({ tableRemovalPolicy: RemovalPolicy.SNAPSHOT })).toThrow(/tableRemovalPolicy snapshot is not supported/);
    expect(() => ownStack({ config: { ...TEST_CONFIG, publicBaseUrl: 'ftp://x.example.com' } })).toThrow(/publicBaseUrl: publicBaseUrl must be an https URL/);
    expect(() => ownStack({ config: { ...TEST_CONFIG, alarms: { emails: ['not-an-email'] } } })).toThrow(/alarms\.emails\.0/);
  });
});

describe('dev stacks are explicit', () => {
  const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: { hitl: Record<string, unknown> } };

  it('the shipped cdk.json keeps tables, logs and the secret (no dev: true)', () => {
    expect(cdkJson.context.hitl).not.toHaveProperty('dev');
    const { input, source } = readConfigSource(new App({ context: { hitl: cdkJson.context.hitl } }).node);
    const template = Template.fromStack(new HitlStack(new App({ context: { ...cdkJsonFeatureFlags(), 'aws:cdk:bundling-stacks': [] } }), 'Hitl', { config: input, configSource: source }));
    for (const type of ['AWS::DynamoDB::Table', 'AWS::Logs::LogGroup', 'AWS::SecretsManager::Secret', 'AWS::S3::Bucket']) {
      const found = Object.values(template.findResources(type));
      expect(found.length, type).toBeGreaterThan(0);
      for (const r of found) expect(r.DeletionPolicy, type).toBe('Retain');
    }
  });

  it('-c hitlDev=true makes a throwaway stack; anything but true or false is refused', () => {
    const node = (hitlDev: unknown) => new App({ context: { hitl: cdkJson.context.hitl, hitlDev } }).node;
    expect(readConfigSource(node('true'))).toMatchObject({ input: { dev: true }, source: 'context hitl with context hitlDev=true' });
    expect(readConfigSource(node(false)).input).toMatchObject({ dev: false });
    expect(() => readConfigSource(node('yes'))).toThrow(/Context hitlDev must be true or false, got "yes"/);
    const dev = synthTemplate({ config: readConfigSource(node('true')).input });
    for (const r of Object.values(dev.findResources('AWS::DynamoDB::Table'))) expect(r.DeletionPolicy).toBe('Delete');
  });
});
