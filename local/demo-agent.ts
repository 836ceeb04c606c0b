/**
 * A scripted agent for the demo: it asks approval for the lesson's refund, then waits for the Decision as a
 * real agent would (here by polling DescribeExecution), and says what it does next.
 */
import { DescribeExecutionCommand, ListExecutionsCommand, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { neutralize, printableJson } from '#shared/render/inert-text.ts';
import type { Decision } from '#shared/schemas/decision.ts';
import type { ReviewRequestInput } from '#shared/schemas/review-request.ts';

/** Execution names of the demo start with this, so a restarted stack finds the one still waiting. */
export const DEMO_PREFIX = 'demo-';

export const DEMO_REQUEST: ReviewRequestInput = {
  kind: 'approval',
  agent: 'customer-support-agent',
  action: { name: 'refund', args: { order_id: 'O-9421', amount_usd: 350 } },
  reason: 'customer reported defective product, attached photos confirm',
  planStep: { current: 3, total: 4 },
  context: 'customer has 6 prior orders, no prior refunds',
  risk: { class: 'financial', reversible: false },
  reviewerGroup: 'support-leads',
  ttlSeconds: 30 * 60,
  fallback: 'deny',
};

export interface DemoOptions {
  sfn: SFNClient;
  stateMachineArn: string;
  mailViewerUrl: string;
  print: (line: string) => void;
  signal?: AbortSignal;
  /** How often to ask whether the execution finished. @default 1000 */
  pollMs?: number;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** One line an agent (or a person) can act on. */
/** One line: the reviewer's reason is free text, so it is neutralized and cannot break the line. */
export function summarizeDecision(decision: Decision): string {
  const who = decision.policy?.name ? `policy ${decision.policy.name} (${decision.policy.why})` : decision.decidedBy;
  const seconds = Math.round(decision.latencyMs / 1000);
  const why = decision.reason ? `: ${decision.reason}` : '';
  return neutralize(`${decision.outcome} by ${who} after ${seconds} s${why}`);
}

/** Start the demo request (or find the one a restart left waiting) and print its Decision when it arrives. */
export async function runDemoAgent(options: DemoOptions): Promise<Decision | undefined> {
  const { sfn, stateMachineArn, print, signal } = options;
  const running = await sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING' }));
  let executionArn = running.executions?.find((e) => e.name?.startsWith(DEMO_PREFIX))?.executionArn;
  if (executionArn) {
    print(`demo agent: still waiting for the approval it asked for before the restart (${executionArn})`);
  } else {
    const name = `${DEMO_PREFIX}${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
    const started = await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(DEMO_REQUEST) }));
    executionArn = started.executionArn!;
    print('demo agent: customer-support-agent asks approval for refund(order_id="O-9421", amount_usd=350)');
    print(`demo agent: execution ${executionArn}`);
  }
  print(`demo agent: open the mail viewer at ${options.mailViewerUrl} and follow the link in a review email to decide`);

  while (!signal?.aborted) {
    const out = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (out.status === 'SUCCEEDED') {
      const decision = JSON.parse(out.output ?? 'null') as Decision;
      print(`demo agent: decision ${summarizeDecision(decision)}`);
      print(printableJson(decision, 2));
      const proceed = decision.outcome === 'approved' || decision.outcome === 'modified';
      const args = printableJson(decision.approvedArgs ?? decision.proposedArgs ?? {});
      print(proceed ? `demo agent: proceeding with refund ${args}` : 'demo agent: not refunding; the reason goes back to the conversation');
      return decision;
    }
    if (out.status !== 'RUNNING') {
      print(neutralize(`demo agent: the execution ended ${out.status}${out.error ? ` (${out.error}: ${out.cause ?? ''})` : ''}`));
      return undefined;
    }
    await sleep(options.pollMs ?? 1000, signal);
  }
  return undefined;
}
