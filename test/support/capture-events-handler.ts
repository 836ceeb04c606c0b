/**
 * A Lambda handler for tests of event rules: appends each event it receives to the file in CAPTURE_FILE, and
 * echoes a Step Functions status change to the event bus as a `hitl.test` event, through the EventBridge SDK
 * pointed at the local stack by AWS_ENDPOINT_URL_EVENTBRIDGE, as any handler would be. An event with
 * `detail.hold` is held the first time (a delivery still running when the stack is killed), not after.
 */
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';

const file = process.env.CAPTURE_FILE!;
const events = new EventBridgeClient({});

export async function handler(event: { id?: string; source?: string; detail?: { status?: string; executionArn?: string; hold?: boolean } }): Promise<void> {
  const held = `${file}.held`;
  if (event.detail?.hold && !existsSync(held)) {
    writeFileSync(held, `${event.id}\n`);
    await new Promise((r) => setTimeout(r, 60_000));
  }
  appendFileSync(file, `${JSON.stringify(event)}\n`);
  if (event.source !== 'aws.states') return;
  const detail = JSON.stringify({ status: event.detail?.status, executionArn: event.detail?.executionArn });
  const out = await events.send(new PutEventsCommand({ Entries: [{ Source: 'hitl.test', DetailType: 'Echo', Detail: detail }] }));
  if (out.FailedEntryCount) throw new Error(`PutEvents failed: ${JSON.stringify(out.Entries)}`);
}
