/**
 * Race trials: on each of many distinct requests, a reviewer's approve, another reviewer's deny, the time
 * box's expiry and the agent's StopExecution all at once, each after a random pause of 0-250 ms (half the
 * stops 300-700 ms). Afterwards
 * every request must have exactly one final state and exactly one final log event carrying the row's
 * Decision; an execution that succeeded must have returned exactly that Decision; at most one reviewer
 * was told their decision counted, and only if it is the stored one.
 */
import { DescribeExecutionCommand, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { canonicalJson, deriveRequestId } from '#shared/review/admission.ts';
import type { ReviewRequestInput } from '#shared/schemas/review-request.ts';
import { DEMO_REQUEST } from '../demo-agent.ts';
import type { LocalStack } from '../stack.ts';
import { eventsOf as events, rowOf as row } from './tables.ts';
import { pollUntil } from '../bench/stats.ts';

export type Contender = 'approve' | 'deny' | 'expire' | 'cancel';

export interface RaceTrial {
  requestId: string;
  executionArn: string;
  status: string;
  /** Row status and outcome, e.g. `DECIDED/approved`. */
  result: string;
  /** Which contender's action the stored state came from. */
  winner: Contender | 'none';
}

export interface RaceReport {
  trials: number;
  seconds: number;
  /** How often each contender won. */
  wins: Record<Contender | 'none', number>;
  /** Execution statuses seen. */
  statuses: Record<string, number>;
  /** Every broken promise, with the request it broke on; empty when the run held. */
  violations: string[];
}

const FINAL_EVENTS = new Set(['decided', 'expired', 'cancelled', 'corrected']);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

const until = <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>) => pollUntil(what, timeoutMs, 20, probe);

/** Each reviewer's personal link to one request, from the mail viewer, matched by the request id in the path. */
async function linksOf(stack: LocalStack, requestId: string): Promise<Map<string, string>> {
  const links = new Map<string, string>();
  const prefix = `${stack.endpoints.respond}/r/${requestId}?`;
  for (const email of await stack.emails()) {
    const text = email.body.text ?? '';
    for (const m of text.matchAll(/https?:\/\/[^\s"'<>]+/g)) {
      if (m[0].startsWith(prefix)) links.set(email.destination.to[0] ?? '', m[0]);
    }
  }
  return links;
}

async function post(link: string, fields: Record<string, string>): Promise<number> {
  const res = await fetch(link, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin', origin: new URL(link).origin },
    body: new URLSearchParams(fields).toString(),
  });
  await res.arrayBuffer();
  return res.status;
}

function expireFunctionOf(stack: LocalStack): string {
  const fn = stack.resources.functions.find((f) => f.handlerFile === 'functions/expire.ts');
  if (!fn) throw new Error('The template has no expire function');
  return fn.logicalId;
}

/** One trial; returns what happened, and pushes any broken promise onto `violations`. */
async function raceOne(stack: LocalStack, n: number, violations: string[]): Promise<RaceTrial> {
  const input: ReviewRequestInput = { ...DEMO_REQUEST, action: { name: 'refund', args: { order_id: `O-RACE-${n}`, amount_usd: 350 } } } as ReviewRequestInput;
  const started = await stack.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: stack.stateMachineArn, input: JSON.stringify(input) }));
  const executionArn = started.executionArn!;
  const requestId = deriveRequestId(input, executionArn);
  const opened = await until(`${requestId} to be open`, 30_000, async () => {
    const r = await row(stack, requestId);
    return r?.status === 'PENDING' && r.notifiedRound === r.round ? r : undefined;
  });
  const links = await until(`${requestId}'s emails`, 10_000, async () => {
    const found = await linksOf(stack, requestId);
    return found.size >= 2 ? found : undefined;
  });
  const [approver, denier] = [...links.keys()].sort();

  // Wide enough pauses that each contender wins some trials, the cancel (which travels through the event bus) too.
  const jitter = () => pause(Math.floor(Math.random() * 250));
  const answers = await Promise.all([
    jitter().then(() => post(links.get(approver!)!, { choice: 'approve', round: String(opened.round) })),
    jitter().then(() => post(links.get(denier!)!, { choice: 'deny', round: String(opened.round), reason: 'race trial' })),
    jitter().then(() => stack.lambda.invoke(expireFunctionOf(stack), { action: 'expire', requestId, tier: opened.tier, round: opened.round }).catch(() => undefined)),
    // Half the stops come late, so executions also end with a decision before the stop arrives.
    (Math.random() < 0.5 ? jitter() : pause(300 + Math.random() * 400)).then(() => stack.clients.sfn.send(new StopExecutionCommand({ executionArn, error: 'RaceTrial', cause: 'cancel contender' })).then(() => 'stopped', () => 'not-running')),
  ]);
  const [approveStatus, denyStatus] = answers as [number, number, unknown, string];

  const done = await until(`${executionArn} to end`, 30_000, async () => {
    const out = await stack.clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
    return out.status === 'RUNNING' ? undefined : out;
  });
  // A stopped execution's cancel arrives through the event bus; wait for the row to be final.
  const final = await until(`${requestId} to be final`, 30_000, async () => {
    const r = await row(stack, requestId);
    return r && r.status !== 'PENDING' && !r.resumeClaimedAt ? r : undefined;
  }).catch(async () => (await row(stack, requestId))!);

  const broke = (what: string) => violations.push(`${requestId} (${executionArn}): ${what}`);
  if (final.status === 'PENDING' || !final.decision) broke(`no final state (status ${final.status})`);
  const finals = (await events(stack, requestId)).filter((e) => FINAL_EVENTS.has(e.event));
  if (finals.length !== 1) broke(`${finals.length} final log events`);
  else if (canonicalJson(finals[0]!.decision) !== canonicalJson(final.decision)) broke('the final log event is not the row’s Decision');
  if (done.status === 'SUCCEEDED' && canonicalJson(JSON.parse(done.output ?? 'null')) !== canonicalJson(final.decision)) broke('the agent received something other than the stored Decision');
  if (done.status === 'FAILED') broke(`the execution failed: ${done.error}`);

  const outcome = final.decision?.outcome;
  const winner: Contender | 'none' =
    final.status === 'CANCELLED' ? 'cancel' : final.status === 'EXPIRED' ? 'expire' : outcome === 'approved' ? 'approve' : outcome === 'denied' ? 'deny' : 'none';
  const told = [approveStatus, denyStatus].filter((s) => s === 200).length;
  if (told > 1) broke('two reviewers were told their decision counted');
  if (approveStatus === 200 && winner !== 'approve') broke(`the approver was told it counted, but the request is ${final.status}/${outcome}`);
  if (denyStatus === 200 && winner !== 'deny') broke(`the denier was told it counted, but the request is ${final.status}/${outcome}`);
  return { requestId, executionArn, status: done.status!, result: `${final.status}/${outcome}`, winner };
}

/** Run `trials` races, `concurrency` at a time. */
export async function runRaceTrials(stack: LocalStack, trials: number, concurrency = 8, onProgress?: (done: number) => void): Promise<RaceReport> {
  const violations: string[] = [];
  const wins: RaceReport['wins'] = { approve: 0, deny: 0, expire: 0, cancel: 0, none: 0 };
  const statuses: Record<string, number> = {};
  const started = performance.now();
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < trials) {
      const n = next++;
      try {
        const trial = await raceOne(stack, n, violations);
        wins[trial.winner]++;
        statuses[trial.status] = (statuses[trial.status] ?? 0) + 1;
      } catch (err) {
        violations.push(`trial ${n}: ${(err as Error).message}`);
      }
      onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, trials) }, worker));
  return { trials, seconds: (performance.now() - started) / 1000, wins, statuses, violations };
}
