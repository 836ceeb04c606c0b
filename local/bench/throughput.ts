/**
 * Throughput on the local stack: open many requests, decide them through the respond endpoint with the
 * signed links from the emails, and compare the POST latency with the bare floor — the same conditional
 * decision write, final log append and SendTaskSuccess issued directly, with no HTTP, page or link check.
 */
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { buildDecision } from '#shared/review/decisions.ts';
import { decisionIndexKeys, DecisionLog } from '#shared/store/decision-log.ts';
import type { StoredRequest } from '#shared/store/model.ts';
import { Ledger } from '#shared/store/ledger.ts';
import { RequestStore } from '#shared/store/requests.ts';
import type { LocalStack } from '../stack.ts';
import { pollUntil, runPool, summarize, timed, type LatencySummary } from './stats.ts';
import { openRequests, REVIEWER, reviewLinks, startRefund, submitChoice } from './workload.ts';

export interface CreateResult {
  count: number;
  seconds: number;
  perSecond: number;
  /** StartExecution until the request is PENDING with its reviewers emailed. */
  latencyMs: LatencySummary;
  executionArns: string[];
}

/** Until the execution waits for its task token: the request function has stored the row and sent the emails. */
async function waitOpen(stack: LocalStack, executionArn: string): Promise<void> {
  await pollUntil(`${executionArn} to wait for a reviewer`, 60_000, 5, async () => {
    const record = stack.sfn.describeExecution(executionArn);
    if (record.status !== 'RUNNING') throw new Error(`${executionArn} ended ${record.status} before it waited for a reviewer: ${record.error ?? ''} ${record.cause ?? ''}`);
    return record.history.some((e) => e.type === 'TaskSubmitted') ? true : undefined;
  });
}

/**
 * Open `count` requests, `concurrency` at a time (each worker starts an execution and waits until it waits
 * for a reviewer: one process cannot run a thousand Lambda invocations at once the way Lambda would), then
 * check the table holds them all PENDING. `alreadyOpen` is how many open requests existed before.
 */
export async function createPending(stack: LocalStack, tag: string, count: number, concurrency: number, alreadyOpen = 0): Promise<CreateResult> {
  const executionArns: string[] = new Array<string>(count);
  const latencies: number[] = [];
  const started = performance.now();
  await runPool(
    Array.from({ length: count }, (_, i) => i),
    concurrency,
    async (i) => {
      const { ms } = await timed(async () => {
        executionArns[i] = await startRefund(stack, `${tag}-${i}`);
        await waitOpen(stack, executionArns[i]);
      });
      latencies.push(ms);
    },
  );
  const seconds = (performance.now() - started) / 1000;
  const open = (await openRequests(stack)).length;
  if (open !== alreadyOpen + count) throw new Error(`Expected ${alreadyOpen + count} PENDING, emailed requests in the table, found ${open}`);
  return { count, seconds, perSecond: count / seconds, latencyMs: summarize(latencies), executionArns };
}

export interface DecideResult {
  count: number;
  /** From the first POST to the last response. */
  seconds: number;
  perSecond: number;
  latencyMs: LatencySummary;
  /** Until every decided execution had SUCCEEDED. */
  allSucceededSeconds: number;
}

async function requestIdsOf(stack: LocalStack, executionArns: readonly string[]): Promise<Map<string, StoredRequest>> {
  const wanted = new Set(executionArns);
  const rows = (await openRequests(stack)).filter((r) => wanted.has(r.executionArn));
  if (rows.length !== executionArns.length) throw new Error(`Expected ${executionArns.length} open requests, found ${rows.length}`);
  return new Map(rows.map((r) => [r.executionArn, r]));
}

async function waitSucceeded(stack: LocalStack, executionArns: readonly string[]): Promise<void> {
  for (const arn of executionArns) {
    const record = await stack.sfn.waitForExecution(arn, 120_000);
    if (record.status !== 'SUCCEEDED') throw new Error(`${arn} ended ${record.status}: ${record.error ?? ''} ${record.cause ?? ''}`);
  }
}

/** Approve every execution's request by POSTing to the reviewer's signed link, `concurrency` at a time. */
export async function decideOverHttp(stack: LocalStack, executionArns: readonly string[], concurrency: number): Promise<DecideResult> {
  const rows = await requestIdsOf(stack, executionArns);
  const links = await reviewLinks(stack, REVIEWER);
  const targets = executionArns.map((arn) => {
    const row = rows.get(arn)!;
    const link = links.get(row.requestId);
    if (!link) throw new Error(`No email to ${REVIEWER} with a link for ${row.requestId}`);
    return { link, round: String(row.round) };
  });

  const latencies: number[] = [];
  const started = performance.now();
  await runPool(targets, concurrency, async ({ link, round }) => {
    const { value: status, ms } = await timed(() => submitChoice(link, { choice: 'approve', round }));
    if (status !== 200) throw new Error(`POST ${link} answered ${status}`);
    latencies.push(ms);
  });
  const seconds = (performance.now() - started) / 1000;
  await waitSucceeded(stack, executionArns);
  const allSucceededSeconds = (performance.now() - started) / 1000;
  return { count: targets.length, seconds, perSecond: targets.length / seconds, latencyMs: summarize(latencies), allSucceededSeconds };
}

export interface FloorResult {
  count: number;
  seconds: number;
  perSecond: number;
  latencyMs: LatencySummary;
}

/** Each open request's row as stored (task token included), read before any timing starts. */
async function storedRows(stack: LocalStack, executionArns: readonly string[]): Promise<StoredRequest[]> {
  const open = await requestIdsOf(stack, executionArns);
  return Promise.all(
    executionArns.map(async (arn) => {
      const out = await stack.clients.doc.send(new GetCommand({ TableName: stack.tables.requests, Key: { requestId: open.get(arn)!.requestId }, ConsistentRead: true }));
      return out.Item as StoredRequest;
    }),
  );
}

/**
 * The floor for one request: the writes a reviewer's approval makes, through the same store code the respond
 * function uses, from this process: the decision's transaction (conditional UpdateItem with the final event)
 * and the read of the row it wrote, SendTaskSuccess, then `resumedAt` with its `resumed` event.
 */
function floorDecider(stack: LocalStack): (row: StoredRequest) => Promise<void> {
  const requests = new RequestStore(stack.clients.doc, stack.tables.requests);
  const ledger = new Ledger(requests, new DecisionLog(stack.clients.doc, stack.tables.decisions));
  return async (row) => {
    const now = new Date();
    const args = row.request.kind === 'approval' ? row.request.action.args : {};
    const decision = buildDecision(row, now, { outcome: 'approved', decidedBy: REVIEWER, proposedArgs: args, approvedArgs: args });
    const decided = await ledger.finish(row.requestId, { expectedRound: row.round, status: 'DECIDED', decision, at: now.toISOString() }, {
      requestId: row.requestId,
      event: 'decided',
      at: decision.decidedAt,
      actor: REVIEWER,
      tier: decision.tier,
      details: { round: row.round },
      decision,
      ...decisionIndexKeys(row, decision.decidedAt),
    });
    if (!decided) throw new Error(`Floor: ${row.requestId} was no longer pending`);
    await stack.clients.sfn.send(new SendTaskSuccessCommand({ taskToken: row.taskToken!, output: JSON.stringify(decision) }));
    const at = new Date().toISOString();
    await ledger.resumed(row.requestId, at, row.taskToken!, false, {
      requestId: row.requestId,
      event: 'resumed',
      at,
      actor: 'system',
      tier: row.tier,
      details: { result: 'resumed', outcome: 'approved' },
    });
  };
}

/** Decide every execution's request at the floor, `concurrency` at a time. */
export async function decideAtFloor(stack: LocalStack, executionArns: readonly string[], concurrency: number): Promise<FloorResult> {
  const decide = floorDecider(stack);
  const rows = await storedRows(stack, executionArns);
  const latencies: number[] = [];
  const started = performance.now();
  await runPool(rows, concurrency, async (row) => {
    latencies.push((await timed(() => decide(row))).ms);
  });
  const seconds = (performance.now() - started) / 1000;
  await waitSucceeded(stack, executionArns);
  return { count: rows.length, seconds, perSecond: rows.length / seconds, latencyMs: summarize(latencies) };
}

export interface PairedLatency {
  pairs: number;
  /** Respond POST through the signed link. */
  post: LatencySummary;
  /** The floor's writes and SendTaskSuccess, direct. */
  floor: LatencySummary;
}

/**
 * Respond POST against the floor, one at a time and alternating (a POST, then a floor decision, and so on),
 * so both see the same machine: what the POST adds to the floor's calls, without the queueing that a saturated
 * CPU adds to every call at higher concurrency.
 */
export async function pairedLatency(stack: LocalStack, postArns: readonly string[], floorArns: readonly string[]): Promise<PairedLatency> {
  if (postArns.length !== floorArns.length) throw new Error('pairedLatency needs as many requests for POSTs as for the floor');
  const decide = floorDecider(stack);
  const floorRows = await storedRows(stack, floorArns);
  const rows = await requestIdsOf(stack, postArns);
  const links = await reviewLinks(stack, REVIEWER);
  const post: number[] = [];
  const floor: number[] = [];
  for (let i = 0; i < postArns.length; i++) {
    const row = rows.get(postArns[i]!)!;
    const link = links.get(row.requestId);
    if (!link) throw new Error(`No email to ${REVIEWER} with a link for ${row.requestId}`);
    const { value: status, ms } = await timed(() => submitChoice(link, { choice: 'approve', round: String(row.round) }));
    if (status !== 200) throw new Error(`POST ${link} answered ${status}`);
    post.push(ms);
    floor.push((await timed(() => decide(floorRows[i]!))).ms);
  }
  await waitSucceeded(stack, [...postArns, ...floorArns]);
  return { pairs: postArns.length, post: summarize(post), floor: summarize(floor) };
}
