/**
 * The outcome notice against real DynamoDB (DynamoDB Local) and SES (aws-ses-v2-local): once per request end,
 * however often it is attempted, even at the same time; never to the decider; off when configured so.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ReviewDeps } from '#shared/review/deps.ts';
import { sendOutcomeNotices } from '#shared/channels/outcome-notice.ts';
import { parseDeploymentConfig } from '#shared/schemas/config.ts';
import type { StoredRequest } from '#shared/store/model.ts';
import { RequestStore } from '#shared/store/requests.ts';
import { startDynamo, type LocalDynamo } from '../support/dynamo.ts';
import { startSes, type SesEmulator } from '../support/ses.ts';
import { storedRequest } from '../support/stored-request.ts';

const NOW = new Date('2025-06-03T13:03:00Z');
const config = (outcomeEmail?: boolean) =>
  parseDeploymentConfig({
    sender: 'hitl@example.com',
    reviewerGroups: {
      'support-leads': {
        tiers: [
          { name: 'support leads', members: ['lead@example.com', 'lead2@example.com'] },
          { name: 'support managers', members: ['manager@example.com'] },
        ],
        timeZone: 'Europe/London',
      },
    },
    ...(outcomeEmail === undefined ? {} : { notices: { outcomeEmail } }),
  });

let dynamo: LocalDynamo;
let ses: SesEmulator;
let sequence = 0;
const warnings: unknown[] = [];

beforeAll(async () => {
  [dynamo, ses] = await Promise.all([startDynamo(), startSes()]);
});

afterAll(async () => {
  await ses?.stop();
  await dynamo?.stop();
});

beforeEach(async () => {
  await ses.clear();
  warnings.length = 0;
});

function deps(outcomeEmail?: boolean): ReviewDeps {
  const log = { info: () => undefined, warn: (...args: unknown[]) => warnings.push(args), error: () => undefined, debug: () => undefined };
  return { config: config(outcomeEmail), requests: new RequestStore(dynamo.doc, dynamo.tables.requests), ses: ses.client(), log, now: () => NOW } as unknown as ReviewDeps;
}

async function decidedRow(): Promise<StoredRequest> {
  const requestId = `r${String(++sequence).padStart(24, '0')}`;
  const row = storedRequest(undefined, {
    requestId,
    status: 'DECIDED',
    tier: 2,
    deliveries: { '1:lead@example.com': 'm1', '1:lead2@example.com': 'm2', '2:manager@example.com': 'm3' },
    decision: {
      requestId,
      kind: 'approval',
      outcome: 'approved',
      decidedBy: 'manager@example.com',
      tier: 2,
      requestedAt: '2025-06-03T13:00:00.000Z',
      decidedAt: '2025-06-03T13:02:00.000Z',
      latencyMs: 120_000,
    },
  });
  await dynamo.doc.send(new PutCommand({ TableName: dynamo.tables.requests, Item: row }));
  return row;
}

describe('outcome notice', () => {
  it('is sent once to everyone asked except the decider, however many times and however concurrently it is attempted', async () => {
    const row = await decidedRow();
    const results = await Promise.all([1, 2, 3].map(() => sendOutcomeNotices(deps(), row)));
    expect(results.filter((r) => 'sent' in r)).toEqual([{ sent: ['lead2@example.com', 'lead@example.com'], failed: [] }]);
    expect(results.filter((r) => 'skipped' in r)).toEqual([{ skipped: 'already-sent' }, { skipped: 'already-sent' }]);
    expect(await sendOutcomeNotices(deps(), row)).toEqual({ skipped: 'already-sent' });

    const mails = await ses.emails();
    expect(mails.map((m) => m.to).sort()).toEqual([['lead2@example.com'], ['lead@example.com']]);
    for (const mail of mails) expect(mail.subject).toBe('Approved by manager@example.com at 14:02 (Europe/London): Refund $350 O-9421 · customer-support-agent');
    expect((await new RequestStore(dynamo.doc, dynamo.tables.requests).get(row.requestId))?.outcomeNoticeAt).toBe(NOW.toISOString());
  });

  it('sends nothing when the deployment turns it off', async () => {
    const row = await decidedRow();
    expect(await sendOutcomeNotices(deps(false), row)).toEqual({ skipped: 'disabled' });
    expect(await ses.emails()).toEqual([]);
  });

  it('is on by default', () => {
    expect(config().notices).toEqual({ outcomeEmail: true });
  });
});
