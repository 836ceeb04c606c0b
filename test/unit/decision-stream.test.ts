/** The decision log's stream to Firehose: which records become rows, their JSON, limits, retries and failures. */
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DECISION_COLUMNS } from '#shared/analytics/columns.ts';
import { forwardDecisions, PUT_ATTEMPTS, type StreamDeps } from '#shared/analytics/stream.ts';
import { parseDeploymentConfig } from '#shared/schemas/config.ts';
import type { LogEvent } from '#shared/store/model.ts';
import { seedDecisions } from '#local/bench/seed-decisions.ts';
import { TEST_CONFIG } from '../support/synth.ts';

const config = parseDeploymentConfig(TEST_CONFIG);
const seeded = seedDecisions(config, { count: 40, firstDay: '2026-03-02', days: 1, seed: 5 });
const firehose = mockClient(FirehoseClient);
const ddb = mockClient(DynamoDBDocumentClient);
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const deps: StreamDeps = { doc, requestsTable: 'requests', config, firehose: new FirehoseClient({ region: 'us-east-1' }), deliveryStream: 'decisions', log: silent, sleep: async () => undefined };

let seq = 0;
function record(event: LogEvent, eventName: 'INSERT' | 'MODIFY' | 'REMOVE' = 'INSERT'): DynamoDBRecord {
  seq += 1;
  return {
    eventName,
    dynamodb: { SequenceNumber: String(1000 + seq), NewImage: marshall(event, { removeUndefinedValues: true }) as never },
  };
}

const sentLines = () =>
  firehose.commandCalls(PutRecordBatchCommand).flatMap((c) => c.args[0].input.Records!.map((r) => JSON.parse(new TextDecoder().decode(r.Data)) as Record<string, unknown>));

beforeEach(() => {
  firehose.reset();
  ddb.reset();
  ddb.on(BatchGetCommand).callsFake((input: { RequestItems: Record<string, { Keys: { requestId: string }[] }> }) => ({
    Responses: { requests: input.RequestItems.requests!.Keys.map((k) => seeded.rows.find((r) => r.requestId === k.requestId)).filter(Boolean) },
  }));
  firehose.on(PutRecordBatchCommand).callsFake((input: { Records: unknown[] }) => ({ FailedPutCount: 0, RequestResponses: input.Records.map(() => ({ RecordId: 'x' })) }));
});

describe('forwardDecisions', () => {
  it('sends one JSON line per final event, with every column, times in epoch ms and the day to partition by', async () => {
    const out = await forwardDecisions(deps, seeded.events.map((e) => record(e)));
    expect(out.batchItemFailures).toEqual([]);
    const lines = sentLines();
    expect(lines.map((l) => l.request_id)).toEqual(seeded.finals.map((f) => f.requestId));
    const first = lines[0]!;
    for (const c of DECISION_COLUMNS) expect(first, c.name).toHaveProperty(c.name);
    const final = seeded.finals[0]!;
    expect(first.decided_at).toBe(Date.parse(final.decision.decidedAt));
    expect(first.requested_at).toBe(Date.parse(final.decision.requestedAt));
    expect(first.day).toBe(final.decision.decidedAt.slice(0, 10));
    expect(first.reviewer_group).toBe('support-leads');
    const raw = new TextDecoder().decode(firehose.commandCalls(PutRecordBatchCommand)[0]!.args[0].input.Records![0]!.Data);
    expect(raw.endsWith('\n')).toBe(true);
  });

  it('skips non-final events, replays and anything but an INSERT', async () => {
    const created = seeded.events.find((e) => e.event === 'created')!;
    const replayed = seeded.events.find((e) => (e.event as string) === 'replayed')!;
    const final = seeded.finals[1]!;
    const out = await forwardDecisions(deps, [record(created), record(replayed), record(final, 'MODIFY'), record(final)]);
    expect(out.batchItemFailures).toEqual([]);
    expect(sentLines().map((l) => l.request_id)).toEqual([final.requestId]);
    await forwardDecisions(deps, [record(created)]);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(1);
  });

  it('splits batches at 500 records', async () => {
    const many = Array.from({ length: 1100 }, (_, i) => seeded.finals[i % seeded.finals.length]!);
    await forwardDecisions(deps, many.map((e) => record(e)));
    expect(firehose.commandCalls(PutRecordBatchCommand).map((c) => c.args[0].input.Records!.length)).toEqual([500, 500, 100]);
  });

  it('retries the records Firehose refused, and only those', async () => {
    let calls = 0;
    firehose.on(PutRecordBatchCommand).callsFake((input: { Records: unknown[] }) => {
      calls += 1;
      const refuseSecond = calls === 1;
      return {
        FailedPutCount: refuseSecond ? 1 : 0,
        RequestResponses: input.Records.map((_, i) => (refuseSecond && i === 1 ? { ErrorCode: 'ServiceUnavailableException' } : { RecordId: 'x' })),
      };
    });
    const finals = seeded.finals.slice(0, 3);
    const out = await forwardDecisions(deps, finals.map((e) => record(e)));
    expect(out.batchItemFailures).toEqual([]);
    const sizes = firehose.commandCalls(PutRecordBatchCommand).map((c) => c.args[0].input.Records!.length);
    expect(sizes).toEqual([3, 1]);
    expect(sentLines().map((l) => l.request_id)).toEqual([...finals.map((f) => f.requestId), finals[1]!.requestId]);
  });

  it(`after ${PUT_ATTEMPTS} refusals, hands the batch back from the first refused record`, async () => {
    firehose.on(PutRecordBatchCommand).callsFake((input: { Records: unknown[] }) => ({
      FailedPutCount: input.Records.length - 1,
      RequestResponses: input.Records.map((_, i) => (i === 0 && input.Records.length === 3 ? { RecordId: 'x' } : { ErrorCode: 'InternalFailure' })),
    }));
    const records = seeded.finals.slice(0, 3).map((e) => record(e));
    const out = await forwardDecisions(deps, records);
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: records[1]!.dynamodb!.SequenceNumber }]);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(PUT_ATTEMPTS);
  });

  it('a request row that is gone still gives a row, without group or proposal', async () => {
    ddb.on(BatchGetCommand).resolves({ Responses: { requests: [] } });
    await forwardDecisions(deps, [record(seeded.finals[2]!)]);
    expect(sentLines()[0]).toMatchObject({ request_id: seeded.finals[2]!.requestId, reviewer_group: null, agent_proposed: null });
  });
});
