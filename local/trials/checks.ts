/**
 * What must hold after a kill and a restart: every execution whose StartExecution was acknowledged exists
 * and proceeds, to a PENDING row in the requests table with its reviewers emailed. Executions the stack
 * started though their call was cut off must proceed too: nothing is left half done.
 */
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { openRequests, type StackHandle } from '../bench/workload.ts';
import type { TrialExecution } from './burst.ts';

export interface ProceedCheck {
  /** Acknowledged, yet unknown to DescribeExecution after the restart. */
  lost: string[];
  /** Known, but not open for review within the time allowed: name and what was seen. */
  stuck: { name: string; seen: string }[];
  /** Cut off by the kill but started all the same (each of these must proceed as well). */
  cutOffStarted: number;
  /** How many executions were checked for progress (acknowledged + cut off but started). */
  checked: number;
  /** Emails beyond one per reviewer and request: a replay may send one again (at least once). */
  repeatedEmails: number;
  waitedMs: number;
}

async function exists(stack: StackHandle, executionArn: string): Promise<string | undefined> {
  try {
    return (await stack.clients.sfn.send(new DescribeExecutionCommand({ executionArn }))).status;
  } catch (err) {
    if ((err as Error).name === 'ExecutionDoesNotExist') return undefined;
    throw err;
  }
}

/** requestId → reviewers emailed, and how many emails beyond one each got. */
async function emailedReviewers(stack: StackHandle): Promise<{ byRequest: Map<string, Set<string>>; repeated: number }> {
  const prefix = `${stack.endpoints.respond}/r/`;
  const byRequest = new Map<string, Set<string>>();
  const seen = new Set<string>();
  let repeated = 0;
  for (const email of await stack.emails()) {
    const ids = new Set<string>();
    for (const [link] of (email.body.text ?? '').matchAll(/https?:\/\/\S+/g)) {
      if (link.startsWith(prefix)) ids.add(decodeURIComponent(new URL(link).pathname.slice('/r/'.length)));
    }
    for (const id of ids) {
      for (const to of email.destination.to) {
        const key = `${id} ${to}`;
        if (seen.has(key)) repeated += 1;
        seen.add(key);
        if (!byRequest.has(id)) byRequest.set(id, new Set());
        byRequest.get(id)!.add(to);
      }
    }
  }
  return { byRequest, repeated };
}

export async function checkExecutionsProceed(
  stack: StackHandle,
  acknowledged: readonly TrialExecution[],
  cutOff: readonly TrialExecution[],
  timeoutMs = 60_000,
): Promise<ProceedCheck> {
  const started = Date.now();
  const lost: string[] = [];
  const mustProceed: TrialExecution[] = [];
  for (const e of acknowledged) {
    if ((await exists(stack, e.executionArn)) === undefined) lost.push(e.name);
    else mustProceed.push(e);
  }
  let cutOffStarted = 0;
  for (const e of cutOff) {
    if ((await exists(stack, e.executionArn)) === undefined) continue;
    cutOffStarted += 1;
    mustProceed.push(e);
  }

  let waiting = mustProceed;
  let repeatedEmails = 0;
  const seen = new Map<string, string>();
  for (;;) {
    const rows = new Map((await openRequests(stack)).map((r) => [r.executionArn, r]));
    const emails = await emailedReviewers(stack);
    repeatedEmails = emails.repeated;
    const next: TrialExecution[] = [];
    for (const e of waiting) {
      const row = rows.get(e.executionArn);
      const emailed = row ? (emails.byRequest.get(row.requestId)?.size ?? 0) : 0;
      if (row?.status === 'PENDING' && emailed > 0) continue;
      seen.set(e.name, row ? `row ${row.status}, ${emailed} reviewer(s) emailed` : 'no open row yet');
      next.push(e);
    }
    waiting = next;
    if (waiting.length === 0 || Date.now() - started > timeoutMs) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const stuck = [];
  for (const e of waiting) stuck.push({ name: e.name, seen: `${seen.get(e.name)}; execution ${(await exists(stack, e.executionArn)) ?? 'unknown'}` });
  return { lost, stuck, cutOffStarted, checked: mustProceed.length, repeatedEmails, waitedMs: Date.now() - started };
}
