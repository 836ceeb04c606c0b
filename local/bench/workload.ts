/** The benchmark's workload: the lesson's refund (the demo agent's request), started through the SDK and decided over HTTP. */
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { StoredRequest } from '#shared/store/model.ts';
import { RequestStore } from '#shared/store/requests.ts';
import { DEMO_REQUEST } from '../demo-agent.ts';
import type { LocalStack } from '../stack.ts';

/** What the workload needs of a stack, whether it runs in this process or in a child process (local/trials). */
export type StackHandle = Pick<LocalStack, 'stateMachineArn' | 'tables' | 'endpoints' | 'emails'> & { clients: Pick<LocalStack['clients'], 'sfn' | 'doc'> };

const REVIEWER_GROUP = DEMO_REQUEST.reviewerGroup ?? 'support-leads';
/** The tier-1 reviewer whose links the benchmark follows. */
export const REVIEWER = 'lead@example.com';

export async function startRefund(stack: StackHandle, name: string): Promise<string> {
  const out = await stack.clients.sfn.send(
    new StartExecutionCommand({ stateMachineArn: stack.stateMachineArn, name, input: JSON.stringify(DEMO_REQUEST) }),
  );
  if (!out.executionArn) throw new Error(`StartExecution ${name} returned no executionArn`);
  return out.executionArn;
}

/** Pending rows whose reviewers have been emailed (the request is fully open), oldest first. */
export async function openRequests(stack: StackHandle): Promise<StoredRequest[]> {
  const rows = await new RequestStore(stack.clients.doc, stack.tables.requests).pendingByGroup(REVIEWER_GROUP);
  return rows.filter((row) => row.notifiedRound !== undefined);
}

/** requestId → the reviewer's signed link, read from the emails in the mail viewer. */
export async function reviewLinks(stack: StackHandle, reviewer: string = REVIEWER): Promise<Map<string, string>> {
  const prefix = `${stack.endpoints.respond}/r/`;
  const links = new Map<string, string>();
  for (const email of await stack.emails()) {
    if (!email.destination.to.includes(reviewer)) continue;
    for (const match of (email.body.text ?? '').matchAll(/https?:\/\/\S+/g)) {
      const link = match[0];
      if (!link.startsWith(prefix)) continue;
      links.set(decodeURIComponent(new URL(link).pathname.slice('/r/'.length)), link);
    }
  }
  return links;
}

/** POST a choice to a review link as the review page's form does (same-origin browser request). */
export async function submitChoice(link: string, fields: Record<string, string>): Promise<number> {
  const res = await fetch(link, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', origin: new URL(link).origin },
    body: new URLSearchParams(fields).toString(),
    redirect: 'manual',
  });
  await res.arrayBuffer();
  return res.status;
}
