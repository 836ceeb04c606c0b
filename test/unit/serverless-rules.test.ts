/**
 * What cfn-lint's serverless rules check, over every resource of the synthesized template: each function's
 * log group and its retention (WS1004), failure handling of every asynchronous invocation (ES1007 for Lambda's
 * own retries, ES4000 for rule targets, the same for the expiry schedules the functions create), a redrive
 * policy on every SNS subscription (ES7000), and every SQS queue either redriven into a dead-letter queue or
 * itself a dead-letter queue with an alarm on its depth (ES6000: our queues are all dead-letter queues, whose
 * redrive is `hitl redrive`). Run on the test config and on one with every optional part on.
 */
import { describe, expect, it } from 'vitest';
import { CreateScheduleCommand, type CreateScheduleCommandInput, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { createRoundSchedule } from '#shared/schedules.ts';
import { ENV } from '#shared/env.ts';
import { HANDLER_METADATA_KEY } from '#infra/constructs/handler-function.ts';
import { SLACK_TEST_CONFIG, synthTemplate, TEST_CONFIG } from '../support/synth.ts';

// Template JSON, walked by property path: typing every resource's properties would be the template's whole schema.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Properties = Record<string, any>;
type Resource = { Type: string; Properties?: Properties; Metadata?: Record<string, unknown> };

const EVERYTHING_ON = {
  ...SLACK_TEST_CONFIG,
  dev: true,
  webhooks: { allowedHosts: ['agent.example.com'] },
  inApp: { issuer: 'https://id.example.com', audience: ['hitl'] },
  alarms: { ...TEST_CONFIG.alarms, emails: ['ops@example.com', 'oncall@example.com'] },
  logRetentionDays: 90,
  tracing: true,
};

const CASES = [
  { name: 'the test config', config: TEST_CONFIG, retention: 30, tracing: false },
  { name: 'every optional part on', config: EVERYTHING_ON, retention: 90, tracing: true },
];

function resources(config: unknown): Record<string, Resource> {
  return synthTemplate({ config }).toJSON().Resources as Record<string, Resource>;
}

function ofType(all: Record<string, Resource>, type: string): [string, Resource][] {
  return Object.entries(all).filter(([, r]) => r.Type === type);
}

/** The logical id a `Ref` or `Fn::GetAtt` names, if `value` is one. */
function referenced(value: unknown): string | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as { Ref?: unknown; 'Fn::GetAtt'?: unknown };
  if (typeof v.Ref === 'string') return v.Ref;
  if (Array.isArray(v['Fn::GetAtt'])) return v['Fn::GetAtt'][0] as string;
  return undefined;
}

/** Functions invoked asynchronously: rule targets, functions a service may invoke by permission, and those a role of the Scheduler may invoke. */
function asyncInvoked(all: Record<string, Resource>): Set<string> {
  const ids = new Set<string>();
  for (const [, rule] of ofType(all, 'AWS::Events::Rule')) {
    for (const target of rule.Properties!.Targets as { Arn: unknown }[]) {
      const id = referenced(target.Arn);
      if (id && all[id]?.Type === 'AWS::Lambda::Function') ids.add(id);
    }
  }
  for (const [, permission] of ofType(all, 'AWS::Lambda::Permission')) {
    if (['events.amazonaws.com', 'sns.amazonaws.com', 's3.amazonaws.com', 'scheduler.amazonaws.com'].includes(permission.Properties!.Principal)) {
      ids.add(referenced(permission.Properties!.FunctionName)!);
    }
  }
  const schedulerRoles = ofType(all, 'AWS::IAM::Role')
    .filter(([, role]) => JSON.stringify(role.Properties!.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'))
    .map(([id]) => id);
  for (const [, policy] of ofType(all, 'AWS::IAM::Policy')) {
    if (!(policy.Properties!.Roles as unknown[]).some((r) => schedulerRoles.includes(referenced(r)!))) continue;
    for (const statement of policy.Properties!.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]) {
      if (![statement.Action].flat().includes('lambda:InvokeFunction')) continue;
      for (const resource of [statement.Resource].flat()) ids.add(referenced(resource)!);
    }
  }
  return ids;
}

/** Queues something sends its failures to: rule targets, Lambda destinations, event source mappings, SNS subscriptions, queues, and the expiry schedules (by the variable the functions read). */
function deadLetterQueues(all: Record<string, Resource>): Set<string> {
  const ids = new Set<string>();
  for (const [, r] of Object.entries(all)) {
    const p = r.Properties ?? {};
    if (r.Type === 'AWS::Events::Rule') for (const t of p.Targets as { DeadLetterConfig?: { Arn: unknown } }[]) ids.add(referenced(t.DeadLetterConfig?.Arn)!);
    if (r.Type === 'AWS::Lambda::EventInvokeConfig' || r.Type === 'AWS::Lambda::EventSourceMapping') ids.add(referenced(p.DestinationConfig?.OnFailure?.Destination)!);
    if (r.Type === 'AWS::SNS::Subscription' || r.Type === 'AWS::SQS::Queue') ids.add(referenced(p.RedrivePolicy?.deadLetterTargetArn)!);
    if (r.Type === 'AWS::Lambda::Function') ids.add(referenced(p.Environment?.Variables?.[ENV.scheduleDlqArn])!);
  }
  ids.delete(undefined as unknown as string);
  return ids;
}

describe.each(CASES)('serverless rules over the template ($name)', ({ config, retention, tracing }) => {
  const all = resources(config);

  it('give every function a log group of the template with the configured retention (WS1004)', () => {
    const functions = ofType(all, 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThanOrEqual(7);
    for (const [id, fn] of functions) {
      const logGroup = referenced(fn.Properties!.LoggingConfig?.LogGroup);
      expect(logGroup, `${id} has no log group of its own`).toBeDefined();
      expect(all[logGroup!]?.Type, id).toBe('AWS::Logs::LogGroup');
    }
    for (const [id, logGroup] of ofType(all, 'AWS::Logs::LogGroup')) expect(logGroup.Properties!.RetentionInDays, id).toBe(retention);
  });

  it('bound Lambda\'s retries of every asynchronous invocation and keep what fails every one (ES1007)', () => {
    const invoked = asyncInvoked(all);
    // settle (status changes), expire (schedules), monitor (every minute), conclude (decision events), and the webhook function when on.
    expect(invoked.size).toBeGreaterThanOrEqual(4);
    const configs = ofType(all, 'AWS::Lambda::EventInvokeConfig').map(([, c]) => c.Properties!);
    for (const fn of invoked) {
      const c = configs.find((p) => referenced(p.FunctionName) === fn);
      expect(c, `${fn} is invoked asynchronously but has no EventInvokeConfig`).toBeDefined();
      expect(c!.MaximumRetryAttempts, fn).toBeTypeOf('number');
      expect(c!.MaximumEventAgeInSeconds, fn).toBeTypeOf('number');
      expect(all[referenced(c!.DestinationConfig?.OnFailure?.Destination)!]?.Type, `${fn} has no on-failure queue`).toBe('AWS::SQS::Queue');
    }
  });

  it('give every rule target a retry policy and a dead-letter queue (ES4000)', () => {
    const rules = ofType(all, 'AWS::Events::Rule');
    expect(rules.length).toBeGreaterThanOrEqual(3);
    for (const [id, rule] of rules) {
      for (const target of rule.Properties!.Targets as Properties[]) {
        expect(target.RetryPolicy?.MaximumRetryAttempts, id).toBeTypeOf('number');
        expect(target.RetryPolicy?.MaximumEventAgeInSeconds, id).toBeTypeOf('number');
        expect(all[referenced(target.DeadLetterConfig?.Arn)!]?.Type, `${id} has no dead-letter queue`).toBe('AWS::SQS::Queue');
      }
    }
  });

  it('give every stream the function reads an on-failure destination', () => {
    for (const [id, mapping] of ofType(all, 'AWS::Lambda::EventSourceMapping')) {
      expect(all[referenced(mapping.Properties!.DestinationConfig?.OnFailure?.Destination)!]?.Type, id).toBe('AWS::SQS::Queue');
    }
  });

  it('give every schedule of the template, if any, a retry policy and a dead-letter queue', () => {
    for (const [id, schedule] of ofType(all, 'AWS::Scheduler::Schedule')) {
      expect(schedule.Properties!.Target.RetryPolicy, id).toBeDefined();
      expect(schedule.Properties!.Target.DeadLetterConfig?.Arn, id).toBeDefined();
    }
    // The schedule group's schedules are made at run time, with the queue the functions are given.
    const queues = new Set(ofType(all, 'AWS::Lambda::Function').map(([, fn]) => referenced(fn.Properties!.Environment?.Variables?.[ENV.scheduleDlqArn])).filter(Boolean));
    expect(queues.size).toBe(1);
    expect(all[[...queues][0]!]?.Type).toBe('AWS::SQS::Queue');
  });

  it('give every SNS subscription a redrive policy (ES7000)', () => {
    const subscriptions = ofType(all, 'AWS::SNS::Subscription');
    expect(subscriptions.length).toBe(config === EVERYTHING_ON ? 2 : 0);
    for (const [id, s] of subscriptions) expect(all[referenced(s.Properties!.RedrivePolicy?.deadLetterTargetArn)!]?.Type, id).toBe('AWS::SQS::Queue');
  });

  it('make every queue a dead-letter queue of something, with an alarm on its depth to the alarm topic (ES6000)', () => {
    const queues = ofType(all, 'AWS::SQS::Queue');
    const dlqs = deadLetterQueues(all);
    const alarms = ofType(all, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties!);
    const topics = ofType(all, 'AWS::SNS::Topic').map(([id]) => id);
    for (const [id, queue] of queues) {
      if (queue.Properties!.RedrivePolicy) continue;
      expect(dlqs.has(id), `${id} has no redrive policy and is nobody's dead-letter queue`).toBe(true);
      const alarm = alarms.find(
        (a) => a.Namespace === 'AWS/SQS' && a.MetricName === 'ApproximateNumberOfMessagesVisible' && (a.Dimensions as { Value: unknown }[]).some((d) => referenced(d.Value) === id),
      );
      expect(alarm, `${id} has no depth alarm`).toBeDefined();
      expect((alarm!.AlarmActions as unknown[]).some((a) => topics.includes(referenced(a)!)), `${id}'s alarm notifies no topic`).toBe(true);
    }
  });

  it(`run the handlers ${tracing ? 'with' : 'without'} X-Ray active tracing, as the config says`, () => {
    const handlers = ofType(all, 'AWS::Lambda::Function').filter(([, fn]) => fn.Metadata?.[HANDLER_METADATA_KEY]);
    expect(handlers.length).toBeGreaterThanOrEqual(7);
    for (const [id, fn] of handlers) expect(fn.Properties!.TracingConfig?.Mode, id).toBe(tracing ? 'Active' : undefined);
  });
});

describe('expiry schedules as the functions create them', () => {
  it('have a retry policy and the dead-letter queue they are given', async () => {
    const sent: CreateScheduleCommandInput[] = [];
    const client = { send: async (command: CreateScheduleCommand) => void sent.push(command.input) } as unknown as SchedulerClient;
    const settings = { groupName: 'g', roleArn: 'arn:aws:iam::123456789012:role/r', expireFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:expire', dlqArn: 'arn:aws:sqs:eu-west-1:123456789012:dlq' };
    await createRoundSchedule(client, settings, { type: 'expire', requestId: 'r1', round: 1, action: 'refund' } as never, new Date('2030-01-01T00:00:00Z'));
    expect(sent[0]?.Target?.RetryPolicy).toEqual({ MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 });
    expect(sent[0]?.Target?.DeadLetterConfig).toEqual({ Arn: settings.dlqArn });
  });
});
