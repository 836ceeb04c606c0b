/**
 * A Lambda handler for tests of event rules: appends each event it receives to the file in CAPTURE_FILE, and
 * echoes a Step Functions status change to the event bus as a `hitl.test` event, through the EventBridge SDK
 * pointed at the local stack by AWS_ENDPOINT_URL_EVENTBRIDGE, as any handler would be.
 */
import { appendFileSync } from 'node:fs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';

const file = process.env.CAPTURE_FILE!;
const events = new EventBridgeClient({});

export async function handler(event: { source?: string; detail?: { status?: string; executionArn?: string } }): Promise<void> {
  appendFileSync(file, `${JSON.stringify(event)}\n`);
  if (event.source !== 'aws.states') return;
  const detail = JSON.stringify({ status: event.detail?.status, executionArn: event.detail?.executionArn });
  const out = await events.send(new PutEventsCommand({ Entries: [{ Source: 'hitl.test', DetailType: 'Echo', Detail: detail }] }));
  if (out.FailedEntryCount) throw new Error(`PutEvents failed: ${JSON.stringify(out.Entries)}`);
}
