/**
 * The data access the handlers and the report CLI use, against DynamoDB Local: the pending queue oldest first,
 * first decision wins (written with its final event in one transaction), and the decision log's analyst
 * queries (by agent, action type, time window).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Decision } from '#shared/schemas/decision.ts';
import { DecisionLog, daysOf, decisionIndexKeys } from '#shared/store/decision-log.ts';
import type { StoredRequest } from '#shared/store/model.ts';
import { Ledger } from '#shared/store/ledger.ts';
import { RequestStore, type FinishArgs } from '#shared/store/requests.ts';
import type { LocalDynamo } from '../support/dynamo.ts';
import { pendingRow, startStore } from '../support/store.ts';
import { DEFAULT_PENDING_SHARDS, pendingKey } from '#shared/store/pending-shards.ts';

let dynamo: LocalDynamo;
let requests: RequestStore;
let log: DecisionLog;
let ledger: Ledger;

beforeAll(async () => {
  ({ dynamo, requests, log, ledger } = await startStore());
});

const created = (row: StoredRequest) => ({ requestId: row.requestId, event: 'created' as const, at: row.createdAt, actor: 'agent:billing-agent', tier: 1 });
const create = (row: StoredRequest) => ledger.create(row, created(row));
const finish = (requestId: string, args: FinishArgs) =>
  ledger.finish(requestId, args, { requestId, event: 'decided', at: args.decision.decidedAt, actor: args.decision.decidedBy, tier: 1, decision: args.decision, ...decisionIndexKeys({ agent: 'billing-agent', actionType: 'approval#refund' }, args.decision.decidedAt) });
afterAll(async () => dynamo?.stop());

const pending = pendingRow;

function decision(requestId: string, decidedAt: string, outcome: Decision['outcome'] = 'approved'): Decision {
  return { requestId, kind: 'approval', outcome, decidedBy: 'a@example.com', tier: 1, requestedAt: decidedAt, decidedAt, latencyMs: 0 };
}

describe('requests table', () => {
  it('lists a group’s pending requests oldest first, and a decided one leaves the queue (and the index once resumed)', async () => {
    const rows = [
      pending('q-2', '2026-03-02T10:00:00.000Z'),
      pending('q-1', '2026-03-01T10:00:00.000Z'),
      pending('q-3', '2026-03-03T10:00:00.000Z'),
      pending('q-other', '2026-02-01T10:00:00.000Z', 'other'),
    ];
    for (const r of rows) expect(await create(r)).toBe(true);
    expect(await create(pending('q-1', '2026-03-09T10:00:00.000Z'))).toBe(false);
    expect((await log.forRequest('q-1')).map((e) => e.event)).toEqual(['created']);

    expect((await requests.pendingByGroup('billing')).map((r) => r.requestId)).toEqual(['q-1', 'q-2', 'q-3']);
    expect((await requests.pendingByGroup('billing', { limit: 2 })).map((r) => r.requestId)).toEqual(['q-1', 'q-2']);
    expect((await requests.pendingByGroup('billing', { createdBefore: '2026-03-03T00:00:00.000Z' })).map((r) => r.requestId)).toEqual(['q-1', 'q-2']);

    const won = await finish('q-1', { expectedRound: 1, status: 'DECIDED', decision: decision('q-1', '2026-03-04T10:00:00.000Z'), at: '2026-03-04T10:00:00.000Z' });
    expect(won).toMatchObject({ status: 'DECIDED', resumeClaimedAt: '2026-03-04T10:00:00.000Z' });
    expect((await log.forRequest('q-1')).map((e) => e.event)).toEqual(['created', 'decided']);
    expect((await requests.pendingByGroup('billing')).map((r) => r.requestId)).toEqual(['q-2', 'q-3']);
    expect((await requests.unresumedByGroup('billing')).map((r) => r.requestId)).toEqual(['q-1']);
    await requests.markResumed('q-1', '2026-03-04T10:00:01.000Z', 'token-q-1');
    expect(await requests.unresumedByGroup('billing')).toEqual([]);
    expect((await requests.get('q-1'))?.pendingGroup).toBeUndefined();
  });

  it('lets only the first decision for a round win, with exactly one final event, and refuses a stale round', async () => {
    await create(pending('w-1', '2026-03-05T10:00:00.000Z'));
    expect(await finish('w-1', { expectedRound: 2, status: 'DECIDED', decision: decision('w-1', '2026-03-05T10:01:00.000Z'), at: 'x' })).toBeUndefined();
    const results = await Promise.all(
      (['approved', 'denied', 'approved', 'denied', 'approved', 'denied'] as const).map((outcome, i) =>
        finish('w-1', { expectedRound: 1, status: 'DECIDED', decision: decision('w-1', `2026-03-05T10:02:0${i}.000Z`, outcome), at: 'x' }),
      ),
    );
    const winners = results.filter((r) => r !== undefined);
    expect(winners).toHaveLength(1);
    expect((await requests.get('w-1'))?.decision).toEqual(winners[0]?.decision);
    const finals = (await log.forRequest('w-1')).filter((e) => e.event === 'decided');
    expect(finals.map((e) => e.decision)).toEqual([winners[0]?.decision]);
  });

  it('cancels only for the execution that owns the request', async () => {
    const row = pending('c-1', '2026-03-07T10:00:00.000Z');
    await create(row);
    const cancel = (arn: string) => finish('c-1', { status: 'CANCELLED', executionArn: arn, decision: decision('c-1', '2026-03-07T10:05:00.000Z', 'cancelled'), at: 'x' });
    expect(await cancel('arn:aws:states:us-east-1:123456789012:execution:hitl:other')).toBeUndefined();
    expect(await cancel(row.executionArn)).toMatchObject({ status: 'CANCELLED', decision: { outcome: 'cancelled' } });
  });

  it('records a resume once: resumedAt and its `resumed` event together, and a second resume of the token writes neither', async () => {
    await create(pending('r-1', '2026-03-08T10:00:00.000Z'));
    await finish('r-1', { expectedRound: 1, status: 'DECIDED', decision: decision('r-1', '2026-03-08T10:01:00.000Z'), at: '2026-03-08T10:01:00.000Z' });
    const resumed = (at: string) => ({ requestId: 'r-1', event: 'resumed' as const, at, actor: 'system', tier: 1, details: { result: 'resumed' } });
    // Both resumes race; exactly one wins, and its event is the only `resumed` event.
    const results = await Promise.all([
      ledger.resumed('r-1', '2026-03-08T10:01:01.000Z', 'token-r-1', true, resumed('2026-03-08T10:01:01.000Z')),
      ledger.resumed('r-1', '2026-03-08T10:01:02.000Z', 'token-r-1', false, resumed('2026-03-08T10:01:02.000Z')),
    ]);
    expect(results.filter(Boolean)).toHaveLength(1);
    const row = await requests.get('r-1');
    const events = (await log.forRequest('r-1')).filter((e) => e.event === 'resumed');
    expect(events.map((e) => e.at)).toEqual([row?.resumedAt]);
    expect(row?.taskToken).toBeUndefined();
    // The winner kept the row in the queue index only if its decision event was still owed.
    expect(row?.pendingGroup).toBe(results[0] ? pendingKey('billing', 'r-1', DEFAULT_PENDING_SHARDS) : undefined);
    expect(await ledger.resumed('r-1', '2026-03-08T10:01:03.000Z', 'token-r-1', false, resumed('2026-03-08T10:01:03.000Z'))).toBe(false);
    expect((await log.forRequest('r-1')).filter((e) => e.event === 'resumed')).toHaveLength(1);
  });

  it('starts a new round only from the expected one', async () => {
    await create(pending('e-1', '2026-03-06T10:00:00.000Z'));
    const next = await requests.startRound('e-1', { expectedRound: 1, tier: 2, expiresAt: '2026-03-06T11:00:00.000Z', history: { tier: 2, tierName: 'managers', at: 'x', why: 'y' } });
    expect(next).toMatchObject({ tier: 2, round: 2, history: [{ tier: 2, tierName: 'managers' }] });
    expect(await requests.startRound('e-1', { expectedRound: 1, tier: 2, expiresAt: 'x' })).toBeUndefined();
  });
});

describe('decision log', () => {
  const final = (requestId: string, at: string, agent: string, actionType: string) =>
    log.appendFinal({ requestId, event: 'decided', at, actor: 'a@example.com', tier: 1, decision: decision(requestId, at), ...decisionIndexKeys({ agent, actionType }, at) });

  it('answers decisions by agent, by action type and by time window without scanning', async () => {
    await final('d-1', '2026-04-01T23:59:00.000Z', 'billing-agent', 'approval#refund');
    await final('d-2', '2026-04-02T00:01:00.000Z', 'billing-agent', 'approval#refund');
    await final('d-3', '2026-04-02T12:00:00.000Z', 'crm-agent', 'verification#email');
    await final('d-4', '2026-04-05T12:00:00.000Z', 'billing-agent', 'approval#refund');
    await log.append({ requestId: 'd-1', event: 'notified', at: '2026-04-01T23:00:00.000Z', actor: 'system', tier: 1 });

    const window = { from: '2026-04-01T00:00:00.000Z', to: '2026-04-02T23:59:59.999Z' };
    expect((await log.decisionsByAgent('billing-agent', window)).map((e) => e.requestId)).toEqual(['d-1', 'd-2']);
    expect((await log.decisionsByActionType('verification#email', window)).map((e) => e.requestId)).toEqual(['d-3']);
    expect((await log.decisionsInWindow(window)).map((e) => e.requestId)).toEqual(['d-1', 'd-2', 'd-3']);
    expect((await log.decisionsInWindow({ from: '2026-04-02T06:00:00.000Z', to: '2026-04-30T00:00:00.000Z' })).map((e) => e.requestId)).toEqual(['d-3', 'd-4']);
    expect(daysOf({ from: '2026-04-30T22:00:00.000Z', to: '2026-05-02T01:00:00.000Z' })).toEqual(['2026-04-30', '2026-05-01', '2026-05-02']);
  });

  it('is append-only: events never overwrite each other and a final event is written once', async () => {
    const at = '2026-04-10T10:00:00.000Z';
    await Promise.all(Array.from({ length: 40 }, (_, i) => log.append({ requestId: 'a-1', event: 'notified', at, actor: 'system', tier: 1, details: { i } })));
    expect(await final('a-1', at, 'billing-agent', 'approval#refund')).toBe(true);
    expect(await final('a-1', at, 'billing-agent', 'approval#refund')).toBe(false);
    const events = await log.forRequest('a-1');
    expect(events.filter((e) => e.event === 'notified')).toHaveLength(40);
    expect(events.filter((e) => e.event === 'decided')).toHaveLength(1);
    expect(new Set(events.map((e) => e.eventKey)).size).toBe(41);
  });
});

describe('argument order', () => {
  it('reads an approval’s arguments, and its Decision’s, in the order the agent sent them (a DynamoDB map keeps none)', async () => {
    const args = { zeta: 1, order_id: 'O-1', amount_usd: 5, b: true, phone: '+1', priority: 2, a: 'x' };
    const row = { ...pending('r-arg-order', '2025-06-03T10:00:00.000Z', 'ordered'), request: { ...pending('x', 'x').request, action: { name: 'refund', args } } } as StoredRequest;
    expect(await create(row)).toBe(true);
    const names = Object.keys(args);
    expect(Object.keys(((await requests.get('r-arg-order'))!.request as { action: { args: object } }).action.args)).toEqual(names);
    const [queued] = await requests.pendingByGroup('ordered');
    expect(Object.keys((queued!.request as { action: { args: object } }).action.args)).toEqual(names);

    const approvedArgs = { ...args, amount_usd: 4 };
    const decision = { requestId: 'r-arg-order', kind: 'approval', outcome: 'modified', tier: 1, requestedAt: '2025-06-03T10:00:00.000Z', latencyMs: 60_000, decidedBy: 'lead@example.com', decidedAt: '2025-06-03T10:01:00.000Z', proposedArgs: args, approvedArgs } as Decision;
    expect(await finish('r-arg-order', { status: 'DECIDED', decision, at: decision.decidedAt })).toBeTruthy();
    const decided = (await requests.get('r-arg-order'))!;
    expect(Object.keys(decided.decision!.proposedArgs!)).toEqual(names);
    expect(Object.keys(decided.decision!.approvedArgs!)).toEqual(names);
  });
});
