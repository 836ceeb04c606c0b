/**
 * kill -9 during a burst of approvals: open `requests` reviews on a child stack, POST approve to each
 * reviewer link (`concurrency` at a time), SIGKILL the child at a random moment, restart it on the same state
 * directory, approve whatever is still pending, and check the promise: every request ends with exactly one
 * final state and one final log event carrying its Decision, every approval that was answered 200 is the
 * stored one, and every execution ends SUCCEEDED with exactly the stored Decision.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { canonicalJson } from '#shared/review/admission.ts';
import type { StackHandle } from '../bench/workload.ts';
import { runBurst, startBurst, trialExecutions, type TrialExecution } from './burst.ts';
import { startChildStack, type ChildStack } from './child-stack.ts';
import { eventsOf, rowOf } from './tables.ts';

export interface Kill9ApprovalsOptions {
  requests: number;
  concurrency: number;
  fsync?: boolean;
  cdkOutDir?: string;
  random?: () => number;
  tag?: string;
  /** How long the restarted stack has to finish every execution. @default 60 s */
  settleTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface Kill9ApprovalsResult {
  requests: number;
  /** POSTs answered before the kill (200 = decided and the execution told). */
  answered: number;
  approvedBeforeKill: number;
  /** POSTs cut off by the kill. */
  unanswered: number;
  killedAtMs: number;
  restartMs: number;
  /** Executions that ended SUCCEEDED with the stored Decision. */
  settled: number;
  /** Each broken promise, with its request. */
  violations: string[];
}

const FINAL = new Set(['decided', 'expired', 'cancelled', 'corrected']);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Each request's link for one reviewer, keyed by request id (read from the link's path). */
async function linksFor(stack: StackHandle, reviewer: string): Promise<Map<string, string>> {
  const prefix = `${stack.endpoints.respond}/r/`;
  const links = new Map<string, string>();
  for (const email of await stack.emails()) {
    if (!email.destination.to.includes(reviewer)) continue;
    for (const [link] of (email.body.text ?? '').matchAll(/https?:\/\/\S+/g)) {
      if (link.startsWith(prefix)) links.set(decodeURIComponent(new URL(link).pathname.slice(3)), link);
    }
  }
  return links;
}

async function approve(link: string): Promise<number> {
  const res = await fetch(link, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', origin: new URL(link).origin },
    body: new URLSearchParams({ choice: 'approve', round: '1' }).toString(),
  });
  await res.arrayBuffer();
  if (res.status >= 500) throw new Error(`POST answered ${res.status}`);
  return res.status;
}

/** Wait until every execution's request is open, and return request id → execution. */
async function openAll(stack: ChildStack, executions: readonly TrialExecution[], reviewer: string): Promise<Map<string, { execution: TrialExecution; link: string }>> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const links = await linksFor(stack, reviewer);
    const byArn = new Map<string, string>();
    for (const id of links.keys()) {
      const row = await rowOf(stack, id);
      if (row?.status === 'PENDING') byArn.set(row.executionArn, id);
    }
    if (executions.every((e) => byArn.has(e.executionArn))) {
      return new Map(executions.map((e) => [byArn.get(e.executionArn)!, { execution: e, link: links.get(byArn.get(e.executionArn)!)! }]));
    }
    if (Date.now() > deadline) throw new Error(`only ${byArn.size} of ${executions.length} requests opened`);
    await pause(100);
  }
}

export async function kill9ApprovalsCycle(options: Kill9ApprovalsOptions): Promise<Kill9ApprovalsResult> {
  const random = options.random ?? Math.random;
  const log = options.log ?? (() => undefined);
  const reviewer = 'lead@example.com';
  const stateDir = mkdtempSync(join(tmpdir(), 'hitl-kill9-approvals-'));
  let stack: ChildStack | undefined;
  let keep = false;
  try {
    stack = await startChildStack({ stateDir, cdkOutDir: options.cdkOutDir, fsync: options.fsync });
    const first = stack;
    const executions = trialExecutions(stack, options.tag ?? 'k9a', options.requests);
    const started = await startBurst(stack, executions, options.concurrency);
    if (started.some((o) => !o.acknowledged)) throw new Error('a StartExecution failed before any kill');
    const open = await openAll(stack, executions, reviewer);

    const killAfter = 1 + Math.floor(random() * Math.max(1, options.requests - 1));
    const jitterMs = random() * 15;
    const burstStarted = performance.now();
    let killedAtMs = 0;
    let killing: Promise<void> | undefined;
    const answers = new Map<string, number>();
    const outcomes = await runBurst(
      [...open.keys()],
      options.concurrency,
      async (requestId) => answers.set(requestId, await approve(open.get(requestId)!.link)),
      (_, acked) => {
        if (acked !== killAfter) return;
        killing = pause(jitterMs).then(() => {
          killedAtMs = performance.now() - burstStarted;
          return first.kill('SIGKILL');
        });
      },
    );
    killing ??= ((killedAtMs = performance.now() - burstStarted), first.kill('SIGKILL'));
    await killing;
    log(`killed after ${answers.size} answered approvals (${killedAtMs.toFixed(0)} ms into the burst)`);

    const restartStarted = performance.now();
    stack = await first.restart();
    const restartMs = performance.now() - restartStarted;

    // Whatever is still pending after the restart is approved now, so every execution can end.
    for (const [requestId, { link }] of open) {
      if ((await rowOf(stack, requestId))?.status === 'PENDING') await approve(link).catch(() => undefined);
    }

    const violations: string[] = [];
    let settled = 0;
    const deadline = Date.now() + (options.settleTimeoutMs ?? 60_000);
    for (const [requestId, { execution }] of open) {
      const broke = (what: string) => violations.push(`${requestId} (${execution.name}): ${what}`);
      let done = await stack.clients.sfn.send(new DescribeExecutionCommand({ executionArn: execution.executionArn }));
      while (done.status === 'RUNNING' && Date.now() < deadline) {
        await pause(100);
        done = await stack.clients.sfn.send(new DescribeExecutionCommand({ executionArn: execution.executionArn }));
      }
      const row = await rowOf(stack, requestId);
      const events = await eventsOf(stack, requestId);
      const finals = events.filter((e) => FINAL.has(e.event));
      if (!row || row.status !== 'DECIDED' || !row.decision) broke(`row is ${row?.status ?? 'missing'}`);
      if (finals.length !== 1) broke(`${finals.length} final log events`);
      else if (row?.decision && canonicalJson(finals[0]!.decision) !== canonicalJson(row.decision)) broke('the final event is not the row’s Decision');
      if (events.filter((e) => e.event === 'created').length !== 1) broke(`${events.filter((e) => e.event === 'created').length} created events`);
      if (answers.get(requestId) === 200 && row?.decision?.decidedBy !== reviewer) broke('an answered approval is not the stored decision');
      if (done.status !== 'SUCCEEDED') broke(`execution ${done.status}`);
      else if (canonicalJson(JSON.parse(done.output ?? 'null')) !== canonicalJson(row?.decision)) broke('the agent received something other than the stored Decision');
      else settled++;
    }
    if (violations.length) keep = true;
    return {
      requests: options.requests,
      answered: answers.size,
      approvedBeforeKill: [...answers.values()].filter((s) => s === 200).length,
      unanswered: outcomes.filter((o) => !o.acknowledged).length,
      killedAtMs,
      restartMs,
      settled,
      violations,
    };
  } catch (err) {
    keep = true;
    if (stack) log(`local stack output:\n${stack.output()}`);
    throw err;
  } finally {
    await stack?.stop().catch(() => undefined);
    if (keep) log(`state directory kept: ${stateDir}`);
    else rmSync(stateDir, { recursive: true, force: true });
  }
}
