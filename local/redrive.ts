/**
 * `hitl redrive`: sends what a dead-letter queue holds back to the function that failed it. SQS's own
 * StartMessageMoveTask moves messages only out of a dead-letter queue whose source is another SQS queue, and the
 * stack's queues are fed by EventBridge rules, the Scheduler and Lambda's asynchronous invocations. So each message
 * is read, its function and payload taken from its shape, the function invoked asynchronously (its own retries and
 * on-failure queue apply again), and the message deleted once Lambda has accepted the event. What names no function
 * (a batch position of the decision stream, an alarm email SNS could not deliver) stays in the queue, reported.
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteMessageCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';

/** What to do with one dead letter: invoke `functionArn` with `payload`, or leave it, and why. */
export type Redelivery = { functionArn: string; payload: string; source: string } | { skip: string };

/** How long a message read but not redriven stays hidden, so one run reads each message once. */
const HIDE_SECONDS = 300;

const FUNCTION_ARN = /^arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$/;

function attribute(message: Message, name: string): string | undefined {
  return message.MessageAttributes?.[name]?.StringValue;
}

function parse(body: string | undefined): unknown {
  try {
    return JSON.parse(body ?? '');
  } catch {
    return undefined;
  }
}

/**
 * The function and payload of one dead letter. Three shapes carry them: a rule target's or a schedule's (message
 * attribute TARGET_ARN, the body is the event or the schedule's input) and a Lambda on-failure record (the body's
 * `requestContext.functionArn` and `requestPayload`).
 */
export function redelivery(message: Message): Redelivery {
  const target = attribute(message, 'TARGET_ARN');
  if (target !== undefined) {
    if (!FUNCTION_ARN.test(target)) return { skip: `its target ${target} is not a Lambda function` };
    const source = attribute(message, 'RULE_ARN') ?? attribute(message, 'SCHEDULE_ARN') ?? 'a rule or schedule';
    return { functionArn: target, payload: message.Body ?? '', source };
  }
  const body = parse(message.Body) as { requestContext?: { functionArn?: unknown; condition?: unknown }; requestPayload?: unknown; DDBStreamBatchInfo?: unknown; Type?: unknown } | undefined;
  if (body?.DDBStreamBatchInfo !== undefined) return { skip: 'a decision-stream batch that failed every retry: it holds stream positions, not the records (docs/analytics.md)' };
  if (body?.Type === 'Notification') return { skip: 'an alarm notification SNS could not email: check the subscription, the alarm itself is in CloudWatch' };
  const functionArn = body?.requestContext?.functionArn;
  if (typeof functionArn === 'string' && FUNCTION_ARN.test(functionArn) && body && 'requestPayload' in body) {
    return { functionArn, payload: JSON.stringify(body.requestPayload), source: `Lambda (${String(body.requestContext?.condition ?? 'failed')})` };
  }
  return { skip: 'neither a rule, schedule nor Lambda on-failure record' };
}

export interface RedriveOptions {
  sqs: SQSClient;
  lambda: LambdaClient;
  queueUrl: string;
  /** Stop after this many messages. */
  max?: number;
  /** Read and report only: invoke nothing, delete nothing. */
  dryRun?: boolean;
  log: (line: string) => void;
}

export interface RedriveResult {
  redriven: number;
  skipped: number;
  failed: number;
}

/** Reads the queue until it is empty (or `max`), redriving what names a function. */
export async function redrive(options: RedriveOptions): Promise<RedriveResult> {
  const result: RedriveResult = { redriven: 0, skipped: 0, failed: 0 };
  const max = options.max ?? Number.POSITIVE_INFINITY;
  let seen = 0;
  while (seen < max) {
    const out = await options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: Math.min(10, max - seen),
        MessageAttributeNames: ['All'],
        VisibilityTimeout: HIDE_SECONDS,
        WaitTimeSeconds: 1,
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) break;
    for (const message of messages) {
      seen++;
      const plan = redelivery(message);
      if ('skip' in plan) {
        result.skipped++;
        options.log(`left ${message.MessageId}: ${plan.skip}`);
        continue;
      }
      if (options.dryRun) {
        result.redriven++;
        options.log(`would send ${message.MessageId} (from ${plan.source}) to ${plan.functionArn}`);
        continue;
      }
      try {
        await options.lambda.send(new InvokeCommand({ FunctionName: plan.functionArn, InvocationType: 'Event', Payload: new TextEncoder().encode(plan.payload) }));
      } catch (err) {
        result.failed++;
        options.log(`kept ${message.MessageId}: invoking ${plan.functionArn} failed: ${(err as Error).message}`);
        continue;
      }
      await options.sqs.send(new DeleteMessageCommand({ QueueUrl: options.queueUrl, ReceiptHandle: message.ReceiptHandle }));
      result.redriven++;
      options.log(`sent ${message.MessageId} (from ${plan.source}) to ${plan.functionArn}`);
    }
  }
  return result;
}
