/**
 * The decision log's DynamoDB stream to S3: each final event (decided, expired, corrected, cancelled) becomes
 * one row of the `decisions` table, sent to Firehose as a line of JSON; Firehose converts the lines to
 * Parquet with the Glue table's schema and writes them under `decisions/day=YYYY-MM-DD/`. Other events are
 * filtered out by the event source mapping already; anything else that arrives is skipped here too.
 *
 * Delivery is at least once: a batch that fails part-way is retried from its first failed record, so a row
 * can reach S3 twice. The named queries keep one row per request.
 */
import { PutRecordBatchCommand, type FirehoseClient, type PutRecordBatchCommandOutput } from '@aws-sdk/client-firehose';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import type { Log } from '../clients.ts';
import { requestRows } from '../review/report.ts';
import type { DeploymentConfig } from '../schemas/config.ts';
import type { LogEvent } from '../store/model.ts';
import { decisionRow, isFinalEvent, streamRecord } from './rows.ts';

export interface StreamDeps {
  doc: DynamoDBDocumentClient;
  requestsTable: string;
  config: DeploymentConfig;
  firehose: Pick<FirehoseClient, 'send'>;
  deliveryStream: string;
  log: Log;
  /** Pause between retries of records Firehose refused. */
  sleep?: (ms: number) => Promise<void>;
}

/** PutRecordBatch limits: 500 records and 4 MiB a call. */
const MAX_RECORDS = 500;
const MAX_BYTES = 4 * 1024 * 1024;
/** Tries per record before the batch is handed back to Lambda to retry from the first failure. */
export const PUT_ATTEMPTS = 3;

interface Pending {
  sequenceNumber: string;
  data: Uint8Array;
}

/** Final events in the stream records, in stream order, with their sequence numbers. */
export function finalEventsOf(records: readonly DynamoDBRecord[]): { sequenceNumber: string; event: LogEvent }[] {
  return records.flatMap((r) => {
    const image = r.dynamodb?.NewImage;
    if (r.eventName !== 'INSERT' || !image) return [];
    const event = unmarshall(image as Parameters<typeof unmarshall>[0]) as LogEvent;
    return isFinalEvent(event) ? [{ sequenceNumber: r.dynamodb?.SequenceNumber ?? '', event }] : [];
  });
}

function chunks(items: readonly Pending[]): Pending[][] {
  const out: Pending[][] = [];
  let current: Pending[] = [];
  let bytes = 0;
  for (const item of items) {
    if (current.length === MAX_RECORDS || (current.length > 0 && bytes + item.data.length > MAX_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.data.length;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Send records, retrying those Firehose refuses; resolves with the ones still refused after every try. */
async function put(deps: StreamDeps, items: Pending[]): Promise<Pending[]> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  let pending = items;
  for (let attempt = 1; attempt <= PUT_ATTEMPTS && pending.length > 0; attempt++) {
    if (attempt > 1) await sleep(100 * 2 ** (attempt - 2));
    const refused: Pending[] = [];
    for (const chunk of chunks(pending)) {
      const out: PutRecordBatchCommandOutput = await deps.firehose.send(
        new PutRecordBatchCommand({ DeliveryStreamName: deps.deliveryStream, Records: chunk.map((p) => ({ Data: p.data })) }),
      );
      if (!out.FailedPutCount) continue;
      out.RequestResponses?.forEach((response, i) => {
        if (response.ErrorCode) refused.push(chunk[i]!);
      });
    }
    if (refused.length > 0) deps.log.warn('Firehose refused records; retrying', { attempt, refused: refused.length });
    pending = refused;
  }
  return pending;
}

/** Forward the final decisions in one batch of stream records; a failure names the record to retry from. */
export async function forwardDecisions(deps: StreamDeps, records: readonly DynamoDBRecord[]): Promise<DynamoDBBatchResponse> {
  const finals = finalEventsOf(records);
  if (finals.length === 0) return { batchItemFailures: [] };
  const requests = await requestRows(deps.doc, deps.requestsTable, [...new Set(finals.map((f) => f.event.requestId))]);
  const encoder = new TextEncoder();
  const items = finals.map(({ sequenceNumber, event }) => {
    const found = requests.get(event.requestId);
    const request = found?.request
      ? { requestId: found.requestId, request: found.request, reviewerGroup: found.reviewerGroup ?? found.request.reviewerGroup ?? '', ttlSeconds: found.ttlSeconds, fallback: found.fallback ?? found.request.fallback, ...(found.round !== undefined ? { round: found.round } : {}) }
      : undefined;
    if (!request) deps.log.warn('Request row not found; the decision row has no group or proposal', { requestId: event.requestId });
    const row = decisionRow({ event: event as LogEvent & { decision: NonNullable<LogEvent['decision']> }, config: deps.config, ...(request ? { request } : {}) });
    return { sequenceNumber, data: encoder.encode(`${JSON.stringify(streamRecord(row))}\n`) };
  });
  const refused = await put(deps, items);
  if (refused.length === 0) {
    deps.log.info('Decisions forwarded', { decisions: items.length });
    return { batchItemFailures: [] };
  }
  // Lambda retries the batch from the earliest failure; rows after it that did arrive arrive again (the queries keep one).
  const first = items.find((i) => refused.includes(i))!;
  deps.log.error('Firehose refused records after every try; the batch will be retried from the first', { refused: refused.length, decisions: items.length });
  return { batchItemFailures: [{ itemIdentifier: first.sequenceNumber }] };
}
