/**
 * `hitl report` and `hitl export` against the local stack: real decisions made through the review links
 * (approve, deny with a reason, modify, answer, correct) and one by policy, then read back from the decision
 * log's indexes by the CLI, in process and, with table names and the usual AWS config, as a child process.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type Io } from '#local/cli.ts';
import { readEndpointsFile } from '#local/endpoints-file.ts';
import { REPO_ROOT } from '#local/stack.ts';
import type { EvalCase } from '#shared/review/eval-export.ts';
import type { DecisionReport } from '#shared/review/report.ts';
import type { Decision } from '#shared/schemas/decision.ts';
import type { ReviewRequestInput } from '#shared/schemas/review-request.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';

interface Run {
  code: number;
  out: string;
  err: string;
}

let stack: TestStack;
let where: string[];

async function cli(argv: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => err.push(l) };
  const code = await main([...argv, ...where], io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const common = { reason: 'customer reported defective product', risk: { class: 'financial', reversible: false }, reviewerGroup: 'support-leads' };

function refund(orderId: string, agent = 'support-agent'): ReviewRequestInput {
  return { ...common, kind: 'approval', agent, action: { name: 'refund', args: { order_id: orderId, amount_usd: 350 } } };
}

/** Start a request and, unless a policy decides it, answer its email with `fields`; resolves with the Decision. */
async function decide(input: ReviewRequestInput, fields?: Record<string, string>): Promise<Decision> {
  const { executionArn } = await stack.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: stack.stateMachineArn, input: JSON.stringify(input) }));
  if (fields) {
    const [email] = await stack.waitForReviewEmails(stack.requestIdOf(executionArn!, input), { to: 'lead@example.com' });
    const res = await stack.submit(stack.reviewLinks(email!)[0]!, { round: '1', ...fields });
    expect(res.status).toBe(200);
  }
  const done = await stack.waitForExecution(executionArn!);
  expect(done.status).toBe('SUCCEEDED');
  return JSON.parse(done.output!) as Decision;
}

beforeAll(async () => {
  stack = await startTestStack();
  where = ['--state-dir', stack.stateDir];
  const decisions = await Promise.all([
    decide(refund('O-R1'), { choice: 'approve' }),
    decide(refund('O-R2'), { choice: 'deny', reason: 'wrong amount' }),
    decide(refund('O-R3'), { choice: 'deny', reason: 'Wrong amount.' }),
    decide(refund('O-R4'), { choice: 'deny', reason: 'wrong amount', comment: 'the photos show one item' }),
    decide(refund('O-R5'), { choice: 'modify', 'arg.order_id': 'O-R5', 'arg.amount_usd': '200' }),
    decide(
      { ...common, kind: 'correction', agent: 'support-agent', output: { id: 'msg-R6', content: 'Refunds take 30 days (R6).' }, issue: 'the policy says 5 days' },
      { choice: 'correct', correctedOutput: 'Refunds take 5 days.', category: 'policy' },
    ),
    decide(
      { ...common, kind: 'disambiguation', agent: 'support-agent', confidence: 0.3, question: 'Which order is R7 about?', options: [{ id: 'o1', label: 'Order O-71' }, { id: 'o2', label: 'Order O-72' }] },
      { choice: 'answer', option: 'o2' },
    ),
    // Confident enough: the auto-answer policy decides, nobody is asked.
    decide({ ...common, kind: 'disambiguation', agent: 'support-agent', confidence: 0.95, question: 'Which order is R8 about?', options: [{ id: 'o1', label: 'Order O-81' }, { id: 'o2', label: 'Order O-82' }] }),
    decide({ ...common, kind: 'approval', agent: 'ops-bot', action: { name: 'crm.update_contact', args: { id: 'C-R9' } } }, { choice: 'approve' }),
  ]);
  expect(decisions.map((d) => d.outcome)).toEqual(['approved', 'denied', 'denied', 'denied', 'modified', 'corrected', 'answered', 'answered', 'approved']);
});

afterAll(async () => {
  await stack?.stop();
});

describe('hitl report', () => {
  it('--json: counts, rates and the repeated denial reason from the decisions just made', async () => {
    const run = await cli(['report', '--json']);
    expect(run.code).toBe(0);
    const r = JSON.parse(run.out) as DecisionReport;
    expect(r.overall).toMatchObject({ decisions: 9, byPeople: 8, byPolicy: 1, expired: 0 });
    expect(r.byAgent.map((s) => [s.key, s.decisions])).toEqual([['support-agent', 8], ['ops-bot', 1]]);
    const refund = r.byActionType.find((s) => s.key === 'approval#refund')!;
    expect(refund).toMatchObject({ decisions: 5, gated: 5, approvalRate: 0.4, denialRate: 0.6, modificationRate: 0.2, medianTtlSeconds: 1800 });
    expect(refund.denialReasons).toEqual([{ reason: expect.stringMatching(/^wrong amount\.?$/i), key: 'wrong amount', count: 3 }]);
    expect(refund.latency!.maxMs).toBeGreaterThanOrEqual(refund.latency!.p50Ms);
    expect(r.byActionType.map((s) => s.key).sort()).toEqual(['approval#crm.update_contact', 'approval#refund', 'correction', 'disambiguation']);
    expect(r.byActionType.find((s) => s.key === 'disambiguation')).toMatchObject({ decisions: 2, byPolicy: 1, policyShare: 0.5 });
    // Five reviews are too few for a denial-rate finding; three identical reasons are not.
    expect(r.findings.map((f) => [f.scope, f.key, f.rule])).toEqual([['actionType', 'approval#refund', 'consistent-denials']]);
  });

  it('filters by agent or action type through their indexes', async () => {
    const ops = JSON.parse((await cli(['report', '--agent', 'ops-bot', '--json'])).out) as DecisionReport;
    expect(ops.overall.decisions).toBe(1);
    expect(ops.byActionType.map((s) => s.key)).toEqual(['approval#crm.update_contact']);

    const text = await cli(['report', '--action', 'approval#refund']);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^5 decisions from \S+ to \S+: 5 by people, 0 by policy\./);
    expect(text.out.split('\n').find((l) => l.startsWith('approval#refund'))!.split(/\s{2,}/).slice(0, 8)).toEqual(['approval#refund', '5', '5', '40%', '60%', '20%', '0%', '0%']);
    expect(text.out).toMatch(/- approval#refund: denied repeatedly for the same reason: "wrong amount\.?" ×3/i);

    const both = JSON.parse((await cli(['report', '--agent', 'ops-bot', '--action', 'approval#refund', '--json'])).out) as DecisionReport;
    expect(both.overall.decisions).toBe(0);
  });

  it('an empty window, and flags it cannot use', async () => {
    const past = await cli(['report', '--since', '2000-01-01T00:00:00Z', '--until', '2000-01-08T00:00:00Z']);
    expect(past).toMatchObject({ code: 0, out: '0 decisions from 2000-01-01T00:00:00.000Z to 2000-01-08T00:00:00.000Z: 0 by people, 0 by policy.' });
    const action = await cli(['report', '--action', 'refund']);
    expect(action.code).toBe(2);
    expect(action.err).toContain('approval#refund');
    const err: string[] = [];
    const half = await main(['report', '--requests-table', 'x'], { out: () => undefined, err: (l) => err.push(l) });
    expect(half).toBe(2);
    expect(err.join('\n')).toContain('--requests-table and --decisions-table go together');
  });
});

describe('hitl export', () => {
  it('writes the disagreements as JSON Lines: denials, the modification, the other option, the correction', async () => {
    const run = await cli(['export']);
    expect(run.code).toBe(0);
    const cases = run.out.split('\n').map((l) => JSON.parse(l) as EvalCase);
    expect(cases.map((c) => c.disagreement).sort()).toEqual(['corrected', 'denied', 'denied', 'denied', 'modified', 'other-option']);
    expect(run.err).toBe('6 eval cases from 8 decisions by people (disagreements only; --all for every one)');

    const modified = cases.find((c) => c.disagreement === 'modified')!;
    expect(modified).toMatchObject({
      agent: 'support-agent',
      actionType: 'approval#refund',
      request: { kind: 'approval', agent: 'support-agent', action: { name: 'refund', args: { order_id: 'O-R5', amount_usd: 350 } }, reason: common.reason, ttlSeconds: 1800 },
      proposal: { action: { name: 'refund', args: { order_id: 'O-R5', amount_usd: 350 } } },
      human: { outcome: 'modified', changedArgs: { amount_usd: { from: 350, to: 200 } }, tier: 1 },
    });
    expect(modified.latencyMs).toBeGreaterThanOrEqual(0);
    expect(cases.find((c) => c.human.comment)!.human).toMatchObject({ outcome: 'denied', reason: 'wrong amount', comment: 'the photos show one item' });
    expect(cases.find((c) => c.disagreement === 'other-option')!).toMatchObject({ proposal: { option: { id: 'o1', label: 'Order O-71' } }, human: { chosenOption: { id: 'o2' } } });
    expect(cases.find((c) => c.disagreement === 'corrected')!).toMatchObject({ proposal: { output: { id: 'msg-R6' } }, human: { correctedOutput: 'Refunds take 5 days.', correctionCategory: 'policy' } });
    expect(run.out).not.toContain('lead@example.com');
  });

  it('--all: every decision by a person; filters apply', async () => {
    const all = await cli(['export', '--all']);
    const cases = all.out.split('\n').map((l) => JSON.parse(l) as EvalCase);
    expect(cases).toHaveLength(8);
    expect(cases.filter((c) => c.disagreement === null).map((c) => c.actionType).sort()).toEqual(['approval#crm.update_contact', 'approval#refund']);

    const ops = await cli(['export', '--agent', 'ops-bot']);
    expect(ops).toMatchObject({ code: 0, out: '', err: '0 eval cases from 1 decision by people (disagreements only; --all for every one)' });
  });

  it('reads a deployed stack\'s tables by name with the usual AWS config (here pointed at the local stack)', async () => {
    const local = readEndpointsFile(stack.stateDir);
    const child = spawn(
      process.execPath,
      [join(REPO_ROOT, 'local', 'bin', 'hitl.mjs'), 'export', '--action', 'approval#refund', '--requests-table', local.tables.requests, '--decisions-table', local.tables.decisions],
      { cwd: stack.stateDir, env: { ...process.env, ...local.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(err).toContain('4 eval cases from 5 decisions by people');
    expect(code).toBe(0);
    expect(out.trimEnd().split('\n').map((l) => (JSON.parse(l) as EvalCase).request.kind)).toEqual(['approval', 'approval', 'approval', 'approval']);
  });
});
