/**
 * What one approval costs in AWS calls: a full flow (StartExecution → emails → the reviewer opens the page
 * → approves → SUCCEEDED) with every SDK call of the handlers, every Lambda invocation and the execution's
 * history counted, and DynamoDB request units computed from the items written and read.
 */
import { GetExecutionHistoryCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { DECISION_LOG, DECISION_LOG_INDEXES, REQUESTS, REQUESTS_INDEXES, type IndexDef } from '#shared/tables.ts';
import type { LocalStack } from '../stack.ts';
import { capacityOf, type CapacityUse } from './capacity.ts';
import type { ApprovalUsage } from './prices.ts';
import type { Item, RecordedCall, SdkCallRecorder } from './sdk-calls.ts';
import { pollUntil } from './stats.ts';
import { openRequests, REVIEWER, reviewLinks, startRefund, submitChoice } from './workload.ts';

export interface Invocation {
  functionName: string;
  ms: number;
}

/** Record every Lambda invocation of the local stack (state machine tasks, schedules and the respond server). */
export function countInvocations(stack: LocalStack): { invocations: Invocation[]; stop(): void } {
  const invocations: Invocation[] = [];
  const lambda = stack.lambda;
  const original = lambda.invoke;
  lambda.invoke = async (nameOrArn: string, payload: unknown) => {
    const started = performance.now();
    try {
      return await original.call(lambda, nameOrArn, payload);
    } finally {
      invocations.push({ functionName: nameOrArn.split(':').at(-1)!, ms: performance.now() - started });
    }
  };
  return {
    invocations,
    stop: () => {
      lambda.invoke = original;
    },
  };
}

export interface ApprovalCount {
  usage: ApprovalUsage;
  calls: Record<string, number>;
  /** The handlers' AWS calls until the request was open (emailed), for the reviewer's page (GET), and from the decision (POST) on. */
  phases: { creation: number; page: number; decision: number };
  invocations: Record<string, { count: number; ms: number; memoryMb: number }>;
  capacity: CapacityUse;
  /** State types entered, in order. */
  states: string[];
}

async function history(stack: LocalStack, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const out = await stack.clients.sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
    events.push(...(out.events ?? []));
    nextToken = out.nextToken;
  } while (nextToken);
  return events;
}

function tableLayouts(stack: LocalStack) {
  const layouts: Record<string, { key: string[]; indexes: readonly IndexDef[] }> = {
    [stack.tables.requests]: { key: [REQUESTS.partitionKey], indexes: REQUESTS_INDEXES },
    [stack.tables.decisions]: { key: [DECISION_LOG.partitionKey, DECISION_LOG.sortKey], indexes: DECISION_LOG_INDEXES },
  };
  return layouts;
}

/**
 * Run one approval with counting on. Run it when nothing else is in flight (every other execution has
 * ended), after a warm-up approval, so cold-start reads (the signing key) are not charged to it.
 */
export async function countOneApproval(stack: LocalStack, recorder: SdkCallRecorder, name: string): Promise<ApprovalCount> {
  const layouts = tableLayouts(stack);
  recorder.reset();
  recorder.captureImages({
    keyOf: (table, operation, input) => {
      const layout = layouts[table];
      const source = (operation === 'PutItem' ? input.Item : input.Key) as Item | undefined;
      if (!layout || !source) return undefined;
      return Object.fromEntries(layout.key.map((k) => [k, source[k]]));
    },
    read: async (table, key) => (await stack.clients.doc.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item,
  });
  const lambda = countInvocations(stack);
  let calls: RecordedCall[];
  let executionArn: string;
  let callsToOpen = 0;
  let callsToPost = 0;
  try {
    executionArn = await startRefund(stack, name);
    const link = await pollUntil('the review email', 30_000, 50, async () => {
      const row = (await openRequests(stack)).find((r) => r.executionArn === executionArn);
      return row ? (await reviewLinks(stack, REVIEWER)).get(row.requestId) : undefined;
    });
    callsToOpen = recorder.calls.length;
    // The reviewer opens the page, then approves from it.
    const page = await fetch(link);
    await page.arrayBuffer();
    if (page.status !== 200) throw new Error(`GET ${link} answered ${page.status}`);
    callsToPost = recorder.calls.length;
    const status = await submitChoice(link, { choice: 'approve', round: '1' });
    if (status !== 200) throw new Error(`POST ${link} answered ${status}`);
    const record = await stack.sfn.waitForExecution(executionArn, 30_000);
    if (record.status !== 'SUCCEEDED') throw new Error(`${executionArn} ended ${record.status}`);
    // The decision event's deliveries (the conclude function: the other reviewer's notice) run after the
    // response; they are part of the approval's cost.
    await stack.events.settled(30_000);
    calls = [...recorder.calls];
  } finally {
    lambda.stop();
    recorder.captureImages(undefined);
  }

  const events = await history(stack, executionArn);
  const states = events.filter((e) => e.type?.endsWith('StateEntered')).map((e) => e.type!.replace(/StateEntered$/, ''));
  const capacity = capacityOf(calls, (table) => layouts[table]?.indexes ?? []);
  const memory = new Map(stack.resources.functions.map((f) => [f.logicalId, f.memoryMb ?? 128]));
  const invocations: ApprovalCount['invocations'] = {};
  for (const inv of lambda.invocations) {
    const entry = (invocations[inv.functionName] ??= { count: 0, ms: 0, memoryMb: memory.get(inv.functionName) ?? 128 });
    entry.count += 1;
    entry.ms += Math.ceil(inv.ms);
  }
  const counts = recorder.counts(calls);
  const recipients = calls
    .filter((c) => c.service === 'SES' && c.operation.startsWith('Send'))
    .reduce((sum, c) => {
      const d = (c.input.Destination ?? {}) as { ToAddresses?: string[]; CcAddresses?: string[]; BccAddresses?: string[] };
      return sum + (d.ToAddresses?.length ?? 0) + (d.CcAddresses?.length ?? 0) + (d.BccAddresses?.length ?? 0);
    }, 0);
  const respondCalls = Object.entries(invocations)
    .filter(([fn]) => /respond/i.test(fn))
    .reduce((sum, [, v]) => sum + v.count, 0);
  return {
    usage: {
      stateTransitions: states.length,
      lambdaInvocations: lambda.invocations.length,
      lambdaGbSeconds: Object.values(invocations).reduce((sum, v) => sum + (v.memoryMb / 1024) * (v.ms / 1000), 0),
      writeRequestUnits: capacity.wru + capacity.indexWru,
      readRequestUnits: capacity.rru,
      emailRecipients: recipients,
      httpApiRequests: respondCalls,
      schedulerInvocations: 0,
      secretsApiCalls: counts['SecretsManager GetSecretValue'] ?? 0,
      customEvents: Object.entries(counts).filter(([call]) => call.endsWith(' PutEvents')).reduce((sum, [, n]) => sum + n, 0),
    },
    calls: counts,
    phases: { creation: callsToOpen, page: callsToPost - callsToOpen, decision: calls.length - callsToPost },
    invocations,
    capacity,
    states,
  };
}
