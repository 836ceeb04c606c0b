/**
 * The `hitl` CLI against the local stack: the real entry point (local/bin/hitl.mjs) in a child process for a
 * request that waits for its Decision, and `main()` in process for the other commands.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main, type Io } from '#local/cli.ts';
import { DEMO_REQUEST } from '#local/demo-agent.ts';
import { REPO_ROOT } from '#local/stack.ts';
import type { EvalCase } from '#shared/review/eval-export.ts';
import type { DecisionReport } from '#shared/review/report.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';

interface Run {
  code: number;
  out: string;
  err: string;
}

/** Runs `main()`; `onErr` sees each stderr line as it is printed. */
async function cli(argv: string[], onErr: (line: string) => void = () => undefined): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (l) => out.push(l), err: (l) => (err.push(l), onErr(l)) };
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function cliProcess(argv: string[]): { done: Promise<Run> } {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'local', 'bin', 'hitl.mjs'), ...argv], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  return { done: new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, out, err }))) };
}

describe('hitl CLI', () => {
  let stack: TestStack;
  let where: string[];

  beforeAll(async () => {
    stack = await startTestStack();
    where = ['--state-dir', stack.stateDir];
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('request --wait starts an execution, waits, and prints the Decision once a reviewer decides', async () => {
    const name = 'cli-request-wait';
    const run = cliProcess([
      'request',
      ...where,
      '--name',
      name,
      '--agent',
      'billing-agent',
      '--action',
      'refund',
      '--args',
      '{"order_id":"O-3131","amount_usd":42}',
      '--reason',
      'duplicate charge',
      '--risk',
      'financial',
      '--irreversible',
      '--plan',
      '2/3',
      '--wait',
      '--timeout',
      '60',
    ]);
    const executionArn = `${stack.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const [email] = await stack.waitForReviewEmails(stack.requestIdOf(executionArn, { agent: 'billing-agent' }));
    expect(email!.body.text).toContain('Plan step: 2 of 3');
    expect((await stack.submit(stack.reviewLinks(email!)[0]!, { choice: 'approve', round: '1' })).status).toBe(200);

    const { code, out, err } = await run.done;
    expect(err).toContain(`started ${executionArn}`);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ outcome: 'approved', kind: 'approval', approvedArgs: { order_id: 'O-3131', amount_usd: 42 } });
  });

  it('request prints the execution ARN; status and list show it RUNNING', async () => {
    const started = await cli(['request', ...where, '--agent', 'ops-bot', '--action', 'crm.update_contact', '--args', '{"id":"C-9"}', '--reason', 'asked by customer', '--risk', 'data-change']);
    expect(started.code).toBe(0);
    const arn = started.out.trim();
    expect(arn).toMatch(/^arn:aws:states:us-east-1:000000000000:execution:Hitl-review:/);

    const status = await cli(['status', arn, ...where, '--json']);
    expect(JSON.parse(status.out)).toMatchObject({ executionArn: arn, status: 'RUNNING' });

    const list = await cli(['list', ...where, '--status', 'RUNNING', '--json']);
    expect((JSON.parse(list.out) as { executionArn: string }[]).map((r) => r.executionArn)).toContain(arn);
  });

  it('rejects a request the shared schema rejects, naming the field, with exit code 2', async () => {
    const missing = await cli(['request', ...where, '--agent', 'a', '--action', 'refund', '--risk', 'financial']);
    expect(missing).toMatchObject({ code: 2, err: '--reason is required' });

    const invalid = await cli(['request', ...where, '--agent', 'a', '--action', 'not valid!', '--reason', 'r', '--risk', 'financial']);
    expect(invalid.code).toBe(2);
    expect(invalid.err).toContain('action.name');
  });

  it('demo: the scripted agent asks for the lesson\'s refund and prints the Decision when it arrives', async () => {
    let started: (executionArn: string) => void = () => undefined;
    const executionArn = new Promise<string>((resolve) => (started = resolve));
    const demo = cli(['demo', ...where], (line) => {
      const printed = /^demo agent: execution (\S+)$/.exec(line);
      if (printed) started(printed[1]!);
    });
    const [email] = await stack.waitForReviewEmails(stack.requestIdOf(await executionArn, DEMO_REQUEST), { to: 'lead@example.com' });
    expect(email!.body.text).toContain('Plan step: 3 of 4');
    expect(email!.body.text).toContain('customer has 6 prior orders, no prior refunds');
    expect((await stack.submit(stack.reviewLinks(email!)[0]!, { choice: 'modify', round: '1', 'arg.order_id': 'O-9421', 'arg.amount_usd': '300' })).status).toBe(200);

    const { code, out, err } = await demo;
    expect(code).toBe(0);
    expect(err).toContain('asks approval for refund(order_id="O-9421", amount_usd=350)');
    expect(err).toContain('decision modified by lead@example.com');
    expect(err).toContain('proceeding with refund {"order_id":"O-9421","amount_usd":300}');
    expect(JSON.parse(out)).toMatchObject({ outcome: 'modified', approvedArgs: { amount_usd: 300 } });
  });

  it('report, export, status and list print a reviewer\'s reason inert: no escape sequence or bidi control reaches the terminal', async () => {
    const ESC = '\u001B';
    const reason = `wrong amount ${ESC}[2J${ESC}[31mred${ESC}[0m \u202Edetour\u202C\u2028next\u200B\u0085end`;
    const arns = await Promise.all(
      ['O-41', 'O-42', 'O-43'].map(async (orderId) => {
        const started = await cli(['request', ...where, '--agent', 'relay-bot', '--action', 'refund', '--args', JSON.stringify({ order_id: orderId }), '--reason', 'r', '--risk', 'financial']);
        const executionArn = started.out.trim();
        const [email] = await stack.waitForReviewEmails(stack.requestIdOf(executionArn, { agent: 'relay-bot' }), { to: 'lead@example.com' });
        expect((await stack.submit(stack.reviewLinks(email!)[0]!, { choice: 'deny', round: '1', reason })).status).toBe(200);
        expect((await stack.waitForExecution(executionArn)).status).toBe('SUCCEEDED');
        return executionArn;
      }),
    );
    const runs = {
      report: await cli(['report', ...where, '--agent', 'relay-bot']),
      reportJson: await cli(['report', ...where, '--agent', 'relay-bot', '--json']),
      export: await cli(['export', ...where, '--agent', 'relay-bot']),
      status: await cli(['status', arns[0]!, ...where]),
      statusJson: await cli(['status', arns[0]!, ...where, '--json']),
      list: await cli(['list', ...where, '--json']),
    };
    for (const [command, run] of Object.entries(runs)) {
      expect(run.code, command).toBe(0);
      // Only line breaks, no other control, no bidi or zero-width character, no line separator.
      // eslint-disable-next-line no-control-regex
      expect(`${run.out}\n${run.err}`, command).not.toMatch(/[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u200B\u202A-\u202E\u2028]/);
    }
    expect(runs.report.out).toContain('denied repeatedly for the same reason: "wrong amount \\u001b[2J\\u001b[31mred\\u001b[0m \\u202edetour\\u202c\\u2028next\\u200b\\u0085end" ×3');
    expect(runs.status.err).toContain(': wrong amount \uFFFD[2J\uFFFD[31mred\uFFFD[0m \uFFFDdetour\uFFFD next\uFFFD end');
    // JSON output stays exact: parsed, it is the reason as the reviewer sent it.
    expect((JSON.parse(runs.status.out) as { reason: string }).reason).toBe(reason);
    expect((JSON.parse(runs.statusJson.out) as { decision: { reason: string } }).decision.reason).toBe(reason);
    expect((JSON.parse(runs.reportJson.out) as DecisionReport).byActionType[0]!.denialReasons).toMatchObject([{ reason, count: 3 }]);
    expect(runs.export.out.split('\n').map((l) => (JSON.parse(l) as EvalCase).human.reason)).toEqual([reason, reason, reason]);
  });

  it('env prints exports that point AWS clients at the stack', async () => {
    const { code, out } = await cli(['env', ...where]);
    expect(code).toBe(0);
    expect(out).toContain(`export AWS_ENDPOINT_URL_SFN=${stack.endpoints.sfn}`);
    expect(out).toContain(`export HITL_STATE_MACHINE_ARN=${stack.stateMachineArn}`);
  });

  it('says how to start a stack when there is none', async () => {
    const { code, err } = await cli(['list', '--state-dir', join(stack.stateDir, 'nothing-here')]);
    expect(code).toBe(1);
    expect(err).toContain('npm start');
  });
});
