/**
 * The local event bus on its own: rules of our own, handlers defined here, the real
 * @aws-sdk/client-eventbridge talking JSON 1.1 to the server, and the Step Functions engine announcing its
 * status changes. A "crash" is a second bus or engine opened on the same files without stopping the first.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventBridgeClient, PutEventsCommand, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CREDENTIALS, LOCAL_REGION, functionArn, stateMachineArn } from '#local/aws-ids.ts';
import { EventBus, type EventBusOptions } from '#local/events/bus.ts';
import type { BusEvent } from '#local/events/event.ts';
import { createEventsServer } from '#local/events/server.ts';
import { closeServer, listen, urlOf } from '#local/http.ts';
import { LocalLambda } from '#local/lambda.ts';
import type { EventRuleResource } from '#local/resources.ts';
import { SfnEngine, type LocalStateMachine } from '#local/sfn/engine.ts';
import { statusChangeEvent } from '#local/sfn/status-events.ts';
import { errorName } from '../support/errors.ts';

const machine: LocalStateMachine = {
  arn: stateMachineArn('review'),
  name: 'review',
  roleArn: 'arn:aws:iam::000000000000:role/sfn',
  definition: {
    StartAt: 'Wait for a person',
    States: {
      'Wait for a person': {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: functionArn('ask'), Payload: { 'token.$': '$$.Task.Token' } },
        End: true,
      },
    },
  },
};

/** The rule the CDK stack is getting: problems of the review state machine, to a function. */
const problems: EventRuleResource = {
  logicalId: 'ExecutionProblems',
  name: 'execution-problems',
  busName: 'default',
  enabled: true,
  pattern: {
    source: ['aws.states'],
    'detail-type': ['Step Functions Execution Status Change'],
    detail: { status: ['ABORTED', 'FAILED', 'TIMED_OUT'], stateMachineArn: [machine.arn] },
  },
  targets: [{ id: 'Alert', arn: functionArn('alert') }],
};

const decisions: EventRuleResource = {
  logicalId: 'Decisions',
  name: 'decisions',
  busName: 'hitl',
  enabled: true,
  pattern: { source: ['hitl'], 'detail-type': ['hitl.decision'] },
  targets: [
    { id: 'Whole', arn: functionArn('decided') },
    { id: 'Flaky', arn: functionArn('flaky'), retryPolicy: { maximumRetryAttempts: 5 } },
    { id: 'Broken', arn: functionArn('broken'), retryPolicy: { maximumRetryAttempts: 1 } },
    { id: 'Outcome', arn: functionArn('outcome'), inputPath: '$.detail.outcome' },
  ],
};

describe('local event bus', () => {
  const received = new Map<string, unknown[]>();
  const tokens: string[] = [];
  let flakyCalls = 0;
  let slowGate: (() => void) | undefined;
  const record = (name: string) => async (event: unknown) => {
    received.set(name, [...(received.get(name) ?? []), event]);
    return {};
  };
  const lambda = new LocalLambda([
    { name: 'ask', handler: async (e) => void tokens.push((e as { token: string }).token) },
    { name: 'alert', handler: record('alert') },
    { name: 'decided', handler: record('decided') },
    { name: 'outcome', handler: record('outcome') },
    {
      name: 'flaky',
      handler: async (e) => {
        if (++flakyCalls < 3) throw Object.assign(new Error('not yet'), { name: 'Busy' });
        return record('flaky')(e);
      },
    },
    { name: 'broken', handler: () => Promise.reject(Object.assign(new Error('always'), { name: 'Broken' })) },
    { name: 'slow', handler: (e) => new Promise((resolve) => (slowGate = () => resolve(record('slow')(e)))) },
  ]);
  let dir: string;
  let bus: EventBus;
  let server: Server;
  let client: EventBridgeClient;
  const busOptions = (): EventBusOptions => ({
    rules: [problems, decisions],
    buses: ['hitl'],
    lambda,
    journalFile: join(dir, 'events.jsonl'),
    deadLetterFile: join(dir, 'event-dlq.jsonl'),
    retryDelayMs: 0,
  });

  async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hitl-events-'));
    bus = new EventBus(busOptions());
    bus.start();
    server = createEventsServer(bus);
    client = new EventBridgeClient({ endpoint: urlOf(await listen(server, 0, 'EventBridge API')), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  });

  afterAll(async () => {
    client?.destroy();
    await bus?.shutdown();
    if (server) await closeServer(server);
    rmSync(dir, { recursive: true, force: true });
  });

  it('PutEvents delivers to every target of the rules that match, as EventBridge shapes events', async () => {
    const out = await client.send(
      new PutEventsCommand({ Entries: [{ EventBusName: 'hitl', Source: 'hitl', DetailType: 'hitl.decision', Detail: JSON.stringify({ outcome: 'approved' }), Resources: ['arn:r'] }] }),
    );
    expect(out.FailedEntryCount).toBe(0);
    const id = out.Entries![0]!.EventId!;
    const [event] = await waitFor('the decision event', () => received.get('decided'));
    expect(event).toMatchObject({ version: '0', id, source: 'hitl', 'detail-type': 'hitl.decision', account: '000000000000', region: 'us-east-1', resources: ['arn:r'], detail: { outcome: 'approved' } });
    expect((event as BusEvent).time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // InputPath sends only part of it.
    expect(await waitFor('the outcome', () => received.get('outcome'))).toEqual(['approved']);
    // Retried until it worked; the target that never works is dead-lettered after its one retry.
    expect(await waitFor('the flaky target', () => received.get('flaky'))).toHaveLength(1);
    expect(flakyCalls).toBe(3);
    const [letter] = await waitFor('the dead letter', () => (bus.deadLetters().length ? bus.deadLetters() : undefined));
    expect(letter).toMatchObject({ eventId: id, targetId: 'Broken', errorCode: 'Broken', attempts: 2 });
    expect(JSON.parse(readFileSync(join(dir, 'event-dlq.jsonl'), 'utf8').trim())).toMatchObject({ eventId: id, targetId: 'Broken' });
    // Nothing on the default bus matched it.
    expect(received.get('alert')).toBeUndefined();
  });

  it('answers entry by entry: aws.* sources, bad detail and missing fields fail alone', async () => {
    const out = await client.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'aws.states', DetailType: 'Step Functions Execution Status Change', Detail: '{}' },
          { Source: 'hitl', DetailType: 'hitl.decision', Detail: '[1]' },
          { Source: 'hitl', DetailType: 'hitl.decision', Detail: '{not json' },
          { Source: 'hitl', Detail: '{}' },
          { Source: 'hitl', DetailType: 'hitl.other', Detail: '{}' },
        ],
      }),
    );
    expect(out.FailedEntryCount).toBe(4);
    expect(out.Entries!.map((e) => e.ErrorCode ?? 'ok')).toEqual(['NotAuthorizedForSourceException', 'MalformedDetail', 'MalformedDetail', 'InvalidArgument', 'ok']);
    const eleven = Array.from({ length: 11 }, () => ({ Source: 'hitl', DetailType: 'x', Detail: '{}' }));
    expect(await errorName(client.send(new PutEventsCommand({ Entries: eleven })))).toBe('ValidationException');
  });

  it('TestEventPattern matches as the rules do', async () => {
    const event = JSON.stringify({ id: '1', source: 'hitl', 'detail-type': 'x', account: '0', time: '2026-01-01T00:00:00Z', region: 'us-east-1', resources: [], detail: { n: 5 } });
    expect((await client.send(new TestEventPatternCommand({ EventPattern: '{"detail":{"n":[{"numeric":[">",4]}]}}', Event: event }))).Result).toBe(true);
    expect((await client.send(new TestEventPatternCommand({ EventPattern: '{"detail":{"n":[6]}}', Event: event }))).Result).toBe(false);
    expect(await errorName(client.send(new TestEventPatternCommand({ EventPattern: '{"detail":"n"}', Event: event })))).toBe('InvalidEventPatternException');
  });

  it('Step Functions status changes reach the rule for problems; RUNNING and SUCCEEDED do not', async () => {
    const sfn = new SfnEngine({ stateMachines: [machine], lambda, executionsDir: join(dir, 'executions'), statusEvents: statusSink(bus) });
    try {
      const stopped = sfn.startExecution({ stateMachineArn: machine.arn, name: 'stopped', input: '{"order":"O-1"}' });
      const succeeded = sfn.startExecution({ stateMachineArn: machine.arn, name: 'succeeded', input: '{}' });
      await waitFor('two tokens', () => (tokens.length >= 2 ? tokens : undefined));
      sfn.sendTaskSuccess({ taskToken: tokens[1]!, output: '{"ok":true}' });
      await sfn.waitForExecution(succeeded.executionArn);
      await sfn.stopExecution({ executionArn: stopped.executionArn, error: 'Operator.Cancelled', cause: 'not needed' });
      const [event] = await waitFor('the ABORTED event', () => received.get('alert'));
      const record = sfn.describeExecution(stopped.executionArn);
      expect(event).toMatchObject({
        source: 'aws.states',
        'detail-type': 'Step Functions Execution Status Change',
        resources: [stopped.executionArn],
        detail: {
          executionArn: stopped.executionArn,
          stateMachineArn: machine.arn,
          name: 'stopped',
          status: 'ABORTED',
          startDate: record.startDate,
          stopDate: record.stopDate,
          input: '{"order":"O-1"}',
          inputDetails: { included: true },
          output: null,
          error: 'Operator.Cancelled',
          cause: 'not needed',
        },
      });
      await bus.settled();
      expect(received.get('alert')).toHaveLength(1);
    } finally {
      await sfn.shutdown();
    }
  });

  it('delivers again after a crash what was accepted but not delivered', async () => {
    const slowRule: EventRuleResource = { ...decisions, name: 'slow', logicalId: 'Slow', pattern: { source: ['hitl.slow'] }, targets: [{ id: 'Slow', arn: functionArn('slow') }] };
    const crashDir = mkdtempSync(join(tmpdir(), 'hitl-events-crash-'));
    const options = { ...busOptions(), rules: [slowRule], journalFile: join(crashDir, 'events.jsonl'), deadLetterFile: undefined };
    const first = new EventBus(options);
    first.start();
    try {
      const [accepted] = first.putEvents([{ EventBusName: 'hitl', Source: 'hitl.slow', DetailType: 'x', Detail: '{"n":1}' }]);
      await waitFor('the delivery to start', () => slowGate);
      // The process "dies" here: the first bus is never stopped, its delivery never finishes.
      slowGate = undefined;
      const second = new EventBus(options);
      second.start();
      (await waitFor('the redelivery', () => slowGate))();
      slowGate = undefined;
      await second.settled();
      expect((received.get('slow') as BusEvent[]).map((e) => e.id)).toEqual([accepted!.EventId]);
      await second.shutdown();
      // Done now: a third start delivers nothing.
      const third = new EventBus(options);
      third.start();
      await new Promise((r) => setTimeout(r, 50));
      expect(slowGate).toBeUndefined();
      await third.shutdown();
    } finally {
      rmSync(crashDir, { recursive: true, force: true });
    }
  });

  it('announces a status change again after a crash that came before the bus had it; never twice to a target', async () => {
    const crashDir = mkdtempSync(join(tmpdir(), 'hitl-events-sfn-'));
    const alerts = () => (received.get('alert') ?? []).length;
    const before = alerts();
    try {
      const options = { ...busOptions(), journalFile: join(crashDir, 'events.jsonl'), deadLetterFile: undefined };
      // The first engine "dies" between recording the stop and announcing it.
      const lostAnnouncements = { announce: () => undefined, durable: () => Promise.resolve() };
      const first = new SfnEngine({ stateMachines: [machine], lambda, executionsDir: join(crashDir, 'executions'), statusEvents: lostAnnouncements });
      const { executionArn } = first.startExecution({ stateMachineArn: machine.arn, name: 'lost-event', input: '{}' });
      await first.settled([executionArn]);
      await first.stopExecution({ executionArn, error: 'Stop' });

      const restartedBus = new EventBus(options);
      restartedBus.start();
      const second = new SfnEngine({ stateMachines: [machine], lambda, executionsDir: join(crashDir, 'executions'), statusEvents: statusSink(restartedBus) });
      second.resume();
      await waitFor('the ABORTED event', () => (alerts() > before ? true : undefined));
      await restartedBus.settled();
      await restartedBus.shutdown();
      await second.shutdown();

      // Another start: the engine's journal was folded, the event is not announced a third time.
      const thirdBus = new EventBus(options);
      thirdBus.start();
      const third = new SfnEngine({ stateMachines: [machine], lambda, executionsDir: join(crashDir, 'executions'), statusEvents: statusSink(thirdBus) });
      third.resume();
      await thirdBus.settled();
      expect(alerts()).toBe(before + 1);
      expect(third.describeExecution(executionArn)).toMatchObject({ status: 'ABORTED', error: 'Stop' });
      await third.shutdown();
      await thirdBus.shutdown();
    } finally {
      rmSync(crashDir, { recursive: true, force: true });
    }
  });
});

function statusSink(bus: EventBus) {
  return { announce: (record: Parameters<typeof statusChangeEvent>[0], status: Parameters<typeof statusChangeEvent>[1]) => bus.putServiceEvent(statusChangeEvent(record, status)), durable: () => bus.durable() };
}
