/**
 * finalizeDecision tells the execution the decider saw waiting while it reads the final row again, then
 * sends to whatever changed meanwhile: a task token replaced by a retried wait, a waiter added. Against
 * DynamoDB Local, with a Step Functions client that records every SendTaskSuccess and refuses replaced tokens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { finalizeDecision } from '#shared/review/finalize.ts';
import type { ReviewDeps } from '#shared/review/deps.ts';
import { parseDeploymentConfig } from '#shared/schemas/config.ts';
import type { Decision } from '#shared/schemas/decision.ts';
import type { DecisionLog } from '#shared/store/decision-log.ts';
import { Ledger } from '#shared/store/ledger.ts';
import type { StoredRequest } from '#shared/store/model.ts';
import type { RequestStore } from '#shared/store/requests.ts';
import type { LocalDynamo } from '../support/dynamo.ts';
import { pendingRow, startStore } from '../support/store.ts';

let dynamo: LocalDynamo;
let requests: RequestStore;
let decisionLog: DecisionLog;

beforeAll(async () => {
  ({ dynamo, requests, log: decisionLog } = await startStore());
});
afterAll(async () => dynamo?.stop());

const config = parseDeploymentConfig({ sender: 'hitl@example.com', reviewerGroups: { billing: { tiers: [{ name: 'leads', members: ['lead@example.com'] }] } } });
/** Tokens the fake Step Functions accepts; any other is an ended task (TaskTimedOut), `flaky` a transient failure. */
function fakeSfn(valid: Set<string>, flaky = new Set<string>()): { client: SFNClient; sent: string[] } {
  const sent: string[] = [];
  const client = {
    send: async (command: { input: { taskToken: string } }) => {
      const token = command.input.taskToken;
      sent.push(token);
      if (flaky.has(token)) throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
      if (!valid.has(token)) throw Object.assign(new Error('task ended'), { name: 'TaskTimedOut' });
      return {};
    },
  };
  return { client: client as unknown as SFNClient, sent };
}

function depsWith(sfn: SFNClient): ReviewDeps {
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
  return {
    config,
    requests,
    decisionLog,
    ledger: new Ledger(requests, decisionLog),
    now: () => new Date(),
    log: quiet,
    sfn,
    scheduler: { send: async () => ({}) } as unknown as SchedulerClient,
    schedules: { groupName: 'g', roleArn: 'r', expireFunctionArn: 'f', dlqArn: 'd' },
  } as unknown as ReviewDeps;
}

async function pending(requestId: string): Promise<StoredRequest> {
  const row = pendingRow(requestId, new Date().toISOString());
  expect(await new Ledger(requests, decisionLog).create(row, { requestId, event: 'created', at: row.createdAt, actor: 'agent:billing-agent', tier: 1 })).toBe(true);
  return (await requests.get(requestId))!;
}

function approve(seen: StoredRequest) {
  const at = new Date().toISOString();
  const decision: Decision = { requestId: seen.requestId, kind: 'approval', outcome: 'approved', decidedBy: 'lead@example.com', tier: 1, requestedAt: seen.createdAt, decidedAt: at, latencyMs: 0 };
  return { status: 'DECIDED' as const, decision, event: 'decided' as const, actor: 'lead@example.com', expectedRound: seen.round };
}

describe('finalizeDecision', () => {
  it('resumes the token the decider saw, with nothing else to send when the row did not change', async () => {
    const seen = await pending('f-same');
    const sfn = fakeSfn(new Set([seen.taskToken!]));
    const result = await finalizeDecision(depsWith(sfn.client), seen, approve(seen));
    expect(result).toMatchObject({ won: true, resume: 'resumed' });
    expect(sfn.sent).toEqual([seen.taskToken]);
    const row = (await requests.get(seen.requestId))!;
    expect(row).toMatchObject({ status: 'DECIDED', resumedAt: expect.any(String) });
    expect(row.taskToken).toBeUndefined();
    expect((await decisionLog.forRequest(seen.requestId)).map((e) => e.event).sort()).toEqual(['created', 'decided', 'resumed']);
  });

  it('resumes the token that replaced the one seen (a retried wait) and a waiter added since', async () => {
    const seen = await pending('f-moved');
    await requests.refreshToken(seen.requestId, seen.executionArn, 'new-f-moved');
    const waiterArn = 'arn:aws:states:us-east-1:123456789012:execution:hitl:agent-retry';
    await requests.addWaiter(seen.requestId, waiterArn, 'waiter-f-moved');
    const sfn = fakeSfn(new Set(['new-f-moved', 'waiter-f-moved']));
    const result = await finalizeDecision(depsWith(sfn.client), seen, approve(seen));
    expect(result).toMatchObject({ won: true, resume: 'resumed' });
    // The seen token was tried first and refused; the current one and the waiter were told.
    expect(sfn.sent[0]).toBe(seen.taskToken);
    expect(sfn.sent.slice(1).sort()).toEqual(['new-f-moved', 'waiter-f-moved']);
    const row = (await requests.get(seen.requestId))!;
    expect(row).toMatchObject({ status: 'DECIDED', resumedAt: expect.any(String) });
    expect(row.taskToken).toBeUndefined();
    expect(row.waiters).toBeUndefined();
  });

  it('releases the resume claim when telling the execution fails for a passing reason, so a retry sends again', async () => {
    const seen = await pending('f-flaky');
    const sfn = fakeSfn(new Set([seen.taskToken!]), new Set([seen.taskToken!]));
    const result = await finalizeDecision(depsWith(sfn.client), seen, approve(seen));
    expect(result).toMatchObject({ won: true, resume: 'failed' });
    const row = (await requests.get(seen.requestId))!;
    // Decided and stored, still owed to the execution: the token is kept and the claim is free for the monitor.
    expect(row).toMatchObject({ status: 'DECIDED', taskToken: seen.taskToken });
    expect(row.resumedAt).toBeUndefined();
    expect(row.resumeClaimedAt).toBeUndefined();
  });

  it('sends nothing when another decision got there first', async () => {
    const seen = await pending('f-lost');
    const first = fakeSfn(new Set([seen.taskToken!]));
    expect(await finalizeDecision(depsWith(first.client), seen, approve(seen))).toMatchObject({ won: true });
    const second = fakeSfn(new Set([seen.taskToken!]));
    const lost = await finalizeDecision(depsWith(second.client), seen, { ...approve(seen), decision: { ...approve(seen).decision, outcome: 'denied', reason: 'no' } });
    expect(lost).toMatchObject({ won: false, current: { status: 'DECIDED', decision: { outcome: 'approved' } } });
    expect(second.sent).toEqual([]);
  });
});
