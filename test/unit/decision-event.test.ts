/**
 * A failed PutEvents never costs the decision: the event stays owed (no `eventPublishedAt`, still indexed)
 * and the monitor's sweep publishes it; rows resumed and published leave the index.
 */
import { describe, expect, it } from 'vitest';
import { publishDecisionEvent, republishOwed } from '#shared/review/decision-event.ts';
import type { StoredRequest } from '#shared/store/model.ts';
import type { RequestStore } from '#shared/store/requests.ts';

const row = {
  requestId: 'r-1',
  status: 'DECIDED',
  agent: 'billing-bot',
  actionType: 'approval#refund',
  executionArn: 'arn:aws:states:us-east-1:000000000000:execution:Hitl-review:x',
  taskToken: 'secret-token',
  resumedAt: '2026-01-01T00:00:01.000Z',
  decision: { requestId: 'r-1', kind: 'approval', outcome: 'denied', decidedBy: 'lead@example.com', reason: 'no', tier: 1, requestedAt: '2026-01-01T00:00:00.000Z', decidedAt: '2026-01-01T00:00:01.000Z', latencyMs: 1000 },
} as unknown as StoredRequest;

function setup(fail: 'throw' | 'reject-entry' | false) {
  const sent: unknown[] = [];
  const marks: string[] = [];
  const left: string[] = [];
  const errors: string[] = [];
  const client = {
    send: async (command: { input: unknown }) => {
      sent.push(command.input);
      if (fail === 'throw') throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
      if (fail === 'reject-entry') return { FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] };
      return { FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] };
    },
  };
  const requests = {
    markEventPublished: async (id: string) => void marks.push(id),
    leaveQueueIndex: async (id: string) => void left.push(id),
  } as unknown as RequestStore;
  const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (m: string) => void errors.push(m) };
  const deps = { decisionEvents: { client: client as never, busName: 'Hitl-decisions' }, requests, log, now: () => new Date('2026-01-01T00:05:00Z') };
  return { deps, sent, marks, left, errors };
}

describe('decision events', () => {
  it('puts the Decision with the request fields on the bus, without the token, and records it', async () => {
    const { deps, sent, marks } = setup(false);
    expect(await publishDecisionEvent(deps, row)).toBe(true);
    const entry = (sent[0] as { Entries: { EventBusName: string; Source: string; DetailType: string; Detail: string }[] }).Entries[0]!;
    expect(entry).toMatchObject({ EventBusName: 'Hitl-decisions', Source: 'hitl', DetailType: 'hitl.decision' });
    expect(JSON.parse(entry.Detail)).toEqual({ ...row.decision, agent: 'billing-bot', actionType: 'approval#refund', executionArn: row.executionArn, status: 'DECIDED' });
    expect(entry.Detail).not.toContain('secret-token');
    expect(marks).toEqual(['r-1']);
  });

  it.each(['throw', 'reject-entry'] as const)('a failed PutEvents (%s) is logged, not thrown, and leaves the event owed', async (fail) => {
    const { deps, marks, errors } = setup(fail);
    expect(await publishDecisionEvent(deps, row)).toBe(false);
    expect(marks).toEqual([]);
    expect(errors).toHaveLength(1);
  });

  it('the sweep publishes owed events and lets resumed, published rows leave the index', async () => {
    const ok = setup(false);
    expect(await republishOwed(ok.deps, [row, { ...row, requestId: 'r-2', eventPublishedAt: '2026-01-01T00:00:02.000Z' }])).toBe(1);
    expect(ok.marks).toEqual(['r-1']);
    expect(ok.left).toEqual(['r-1', 'r-2']);

    const failing = setup('throw');
    expect(await republishOwed(failing.deps, [row])).toBe(0);
    expect(failing.left).toEqual([]);
  });

  it('publishes nothing without a bus, or for a row that is not final', async () => {
    const { deps, sent } = setup(false);
    expect(await publishDecisionEvent({ ...deps, decisionEvents: undefined }, row)).toBe(true);
    expect(await publishDecisionEvent(deps, { ...row, status: 'PENDING' })).toBe(true);
    expect(sent).toEqual([]);
  });
});
