/**
 * `hitl redrive`: each kind of dead letter the stack's queues hold is sent back to its function or left with a
 * reason; a message is deleted only once Lambda accepted the event. SQS has no emulator in the local stack, so a
 * small in-memory queue (receive hides a message, delete removes it) stands in for it.
 */
import { describe, expect, it } from 'vitest';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { DeleteMessageCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { redrive, redelivery } from '#local/redrive.ts';
import { main } from '#local/cli.ts';

const ACCOUNT = '123456789012';
const SETTLE = `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:Hitl-Settle`;
const EXPIRE = `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:Hitl-Expire`;
const CONCLUDE = `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:Hitl-Conclude`;
const text = (value: string) => ({ DataType: 'String', StringValue: value });

const EVENT = { source: 'aws.states', 'detail-type': 'Step Functions Execution Status Change', detail: { status: 'ABORTED' } };
const ruleLetter: Message = {
  MessageId: 'rule-1',
  Body: JSON.stringify(EVENT),
  MessageAttributes: { RULE_ARN: text(`arn:aws:events:eu-west-1:${ACCOUNT}:rule/ExecutionEnded`), TARGET_ARN: text(SETTLE), ERROR_CODE: text('SDK_CLIENT_ERROR') },
};
const scheduleLetter: Message = {
  MessageId: 'schedule-1',
  Body: JSON.stringify({ type: 'expire', requestId: 'r1', round: 1 }),
  MessageAttributes: { SCHEDULE_ARN: text(`arn:aws:scheduler:eu-west-1:${ACCOUNT}:schedule/Hitl-expiry/hitl-r1-r1`), TARGET_ARN: text(EXPIRE) },
};
const lambdaLetter: Message = {
  MessageId: 'lambda-1',
  Body: JSON.stringify({
    version: '1.0',
    timestamp: '2030-01-01T00:00:00.000Z',
    requestContext: { requestId: 'x', functionArn: `${CONCLUDE}:$LATEST`, condition: 'RetriesExhausted', approximateInvokeCount: 3 },
    requestPayload: { 'detail-type': 'hitl.decision', detail: { requestId: 'r2' } },
    responseContext: { statusCode: 200, functionError: 'Unhandled' },
  }),
};
const streamLetter: Message = {
  MessageId: 'stream-1',
  Body: JSON.stringify({ requestContext: { functionArn: `${CONCLUDE}:$LATEST`, condition: 'RetryAttemptsExhausted' }, DDBStreamBatchInfo: { shardId: 's', startSequenceNumber: '1' } }),
};
const snsLetter: Message = { MessageId: 'sns-1', Body: JSON.stringify({ Type: 'Notification', TopicArn: `arn:aws:sns:eu-west-1:${ACCOUNT}:alarms`, Message: '…' }) };

describe('redelivery', () => {
  it('sends a rule target\'s or a schedule\'s letter to its TARGET_ARN with the body as the event', () => {
    expect(redelivery(ruleLetter)).toEqual({ functionArn: SETTLE, payload: ruleLetter.Body, source: `arn:aws:events:eu-west-1:${ACCOUNT}:rule/ExecutionEnded` });
    expect(redelivery(scheduleLetter)).toMatchObject({ functionArn: EXPIRE, payload: scheduleLetter.Body });
  });

  it('sends a Lambda on-failure record\'s request payload to the function that failed it', () => {
    expect(redelivery(lambdaLetter)).toEqual({ functionArn: `${CONCLUDE}:$LATEST`, payload: JSON.stringify({ 'detail-type': 'hitl.decision', detail: { requestId: 'r2' } }), source: 'Lambda (RetriesExhausted)' });
  });

  it('leaves what names no function, saying why', () => {
    expect(redelivery(streamLetter)).toEqual({ skip: expect.stringContaining('decision-stream batch') });
    expect(redelivery(snsLetter)).toEqual({ skip: expect.stringContaining('alarm notification') });
    expect(redelivery({ MessageId: 'x', Body: 'not json' })).toEqual({ skip: expect.stringContaining('neither') });
    expect(redelivery({ MessageId: 'y', Body: '{}', MessageAttributes: { TARGET_ARN: text(`arn:aws:sqs:eu-west-1:${ACCOUNT}:q`) } })).toEqual({ skip: expect.stringContaining('not a Lambda function') });
  });
});

/** Receive hides what it returns (until the run ends); delete removes by receipt handle. */
function queue(messages: Message[]) {
  const held = messages.map((m, i) => ({ ...m, ReceiptHandle: `rh-${i}`, hidden: false }));
  return {
    held,
    send: async (command: unknown) => {
      if (command instanceof ReceiveMessageCommand) {
        const visible = held.filter((m) => !m.hidden).slice(0, command.input.MaxNumberOfMessages ?? 1);
        for (const m of visible) m.hidden = true;
        return { Messages: visible.map(({ hidden: _hidden, ...m }) => m) };
      }
      if (command instanceof DeleteMessageCommand) {
        held.splice(held.findIndex((m) => m.ReceiptHandle === command.input.ReceiptHandle), 1);
        return {};
      }
      throw new Error(`unexpected ${String(command)}`);
    },
  };
}

function functions(failing: string[] = []) {
  const invoked: { name: string; type: string; payload: string }[] = [];
  return {
    invoked,
    send: async (command: InvokeCommand) => {
      const { FunctionName, InvocationType, Payload } = command.input;
      if (failing.includes(FunctionName!)) throw Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
      invoked.push({ name: FunctionName!, type: InvocationType!, payload: new TextDecoder().decode(Payload as Uint8Array) });
      return { StatusCode: 202 };
    },
  };
}

describe('redrive', () => {
  const all = [ruleLetter, scheduleLetter, lambdaLetter, streamLetter, snsLetter];

  it('invokes each function asynchronously with its payload, deletes what Lambda accepted and keeps the rest', async () => {
    const sqs = queue(all);
    const lambda = functions([EXPIRE]);
    const log: string[] = [];
    const result = await redrive({ sqs: sqs as never, lambda: lambda as never, queueUrl: 'https://sqs/q', log: (l) => log.push(l) });
    expect(result).toEqual({ redriven: 2, skipped: 2, failed: 1 });
    expect(lambda.invoked).toEqual([
      { name: SETTLE, type: 'Event', payload: ruleLetter.Body },
      { name: `${CONCLUDE}:$LATEST`, type: 'Event', payload: JSON.stringify({ 'detail-type': 'hitl.decision', detail: { requestId: 'r2' } }) },
    ]);
    expect(sqs.held.map((m) => m.MessageId)).toEqual(['schedule-1', 'stream-1', 'sns-1']);
    expect(log.some((l) => l.includes('schedule-1') && l.includes('Rate exceeded'))).toBe(true);
  });

  it('with --dry-run and --max, reads at most that many and changes nothing', async () => {
    const sqs = queue(all);
    const lambda = functions();
    const result = await redrive({ sqs: sqs as never, lambda: lambda as never, queueUrl: 'https://sqs/q', dryRun: true, max: 3, log: () => {} });
    expect(result).toEqual({ redriven: 3, skipped: 0, failed: 0 });
    expect(lambda.invoked).toEqual([]);
    expect(sqs.held).toHaveLength(all.length);
  });

  it('without --queue-url says where the local stack keeps its dead letters', async () => {
    const err: string[] = [];
    const code = await main(['redrive', '--state-dir', '/nonexistent-hitl-state'], { out: () => {}, err: (l) => err.push(l) });
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/--queue-url[\s\S]*schedule-dlq\.json and event-dlq\.jsonl/);
  });
});
