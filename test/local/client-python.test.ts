/**
 * The Python client (clients/python) against the local stack, run by Debian's /usr/bin/python3 with boto3
 * (python3-boto3): approve, modify through @require_approval, deny through gate, expiry, cancel, a wait that
 * times out. Then `pip wheel` builds it, the wheel is installed into a directory outside the repository,
 * and the README's Python agent runs from there. Skipped, saying why, only when boto3 is missing.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GetScheduleCommand, ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#local/clock.ts';
import { parseExpression } from '#local/scheduler/expression.ts';
import { REPO_ROOT } from '#local/stack.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';
import { readmeAgent } from '../support/readme-agents.ts';

const PYTHON = '/usr/bin/python3';
const PACKAGE_DIR = join(REPO_ROOT, 'clients', 'python');

function probe(code: string): boolean {
  try {
    execFileSync(PYTHON, ['-c', code], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const hasBoto3 = existsSync(PYTHON) && probe('import boto3');
const hasPip = hasBoto3 && probe('import pip') && probe('import setuptools, wheel');
if (!hasBoto3) console.warn(`Skipping the Python client tests: ${PYTHON} cannot import boto3 (apt-get install python3-boto3; .ci/run does)`);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe.skipIf(!hasBoto3)('Python client on the local stack', () => {
  const clock = new ManualClock();
  let stack: TestStack;
  let dir: string;

  beforeAll(async () => {
    stack = await startTestStack({ clock });
    dir = mkdtempSync(join(tmpdir(), 'hitl-client-py-'));
  });

  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Run Python in a directory outside the repository, as a user's agent; no AWS settings of the tests leak in. */
  function python(script: string, options: { pythonPath?: string; cwd?: string } = {}): Promise<Run> {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('HITL_')));
    Object.assign(env, { HITL_LOCAL_FILE: join(stack.stateDir, 'local.json'), PYTHONPATH: options.pythonPath ?? PACKAGE_DIR, PYTHONDONTWRITEBYTECODE: '1' });
    return new Promise((resolve) => {
      const child = spawn(PYTHON, ['-c', script], { cwd: options.cwd ?? dir, env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  const ok = (run: Run): string => {
    expect(run.code, run.stderr).toBe(0);
    return run.stdout.trim();
  };

  const requestIdOf = (key: string) => stack.requestIdOf('unused', { agent: 'billing-bot', idempotencyKey: key });

  async function decide(requestId: string, fields: Record<string, string>): Promise<void> {
    const [email] = await stack.waitForReviewEmails(requestId, { to: 'lead@example.com', timeoutMs: 30_000 });
    expect((await stack.submit(stack.reviewLinks(email!)[0]!, { round: '1', ...fields })).status).toBe(200);
  }

  const REQUEST = (key: string, orderId: string) =>
    `{"kind": "approval", "agent": "billing-bot", "action": {"name": "refund", "args": {"order_id": "${orderId}", "amount_usd": 40}}, "reason": "duplicate charge", "risk": {"class": "financial", "reversible": False}, "reviewerGroup": "support-leads", "ttlSeconds": 300, "idempotencyKey": "${key}"}`;

  const TOOL = `
import json
from hitl_client import Hitl, require_approval, ReviewWaitTimeout
hitl = Hitl(poll=(0.05, 0.2))
def refund(order_id: str, amount_usd: float) -> str:
    return f"refunded {amount_usd} USD on {order_id}"
`;

  it('declares the fields of the published JSON Schemas in its TypedDicts', async () => {
    const fields = JSON.parse(ok(await python('import json; from hitl_client.contract import DECISION_FIELDS, REQUEST_FIELDS; print(json.dumps([sorted(DECISION_FIELDS), sorted(REQUEST_FIELDS)]))')));
    const schema = (name: string) => JSON.parse(readFileSync(join(REPO_ROOT, 'docs', 'schemas', name), 'utf8'));
    expect(fields[0]).toEqual(Object.keys(schema('decision.schema.json').properties).sort());
    const branches = schema('review-request.schema.json').oneOf as { properties: Record<string, unknown> }[];
    expect(fields[1]).toEqual([...new Set(branches.flatMap((b) => Object.keys(b.properties)))].sort());
  });

  it('review(): an approval returns the approved Decision', async () => {
    const run = python(`${TOOL}\nprint(json.dumps(hitl.review(${REQUEST('py-approve', 'O-9001')}, timeout=60)))`);
    await decide(requestIdOf('py-approve'), { choice: 'approve' });
    const decision = JSON.parse(ok(await run));
    expect(decision).toMatchObject({ requestId: requestIdOf('py-approve'), outcome: 'approved', decidedBy: 'lead@example.com', approvedArgs: { order_id: 'O-9001', amount_usd: 40 } });
  });

  it('@require_approval: a modification runs the tool with the reviewer’s args', async () => {
    const script = `${TOOL}
gated = require_approval(hitl, agent="billing-bot", reviewer_group="support-leads", risk={"class": "financial", "reversible": False}, reason="customer asked")(refund)
print(gated("O-9002", amount_usd=300, tool_call_id="py-modify"))`;
    const run = python(script);
    await decide(requestIdOf('py-modify'), { choice: 'modify', 'arg.order_id': 'O-9002', 'arg.amount_usd': '120' });
    expect(ok(await run)).toBe('refunded 120 USD on O-9002');
  });

  it('gate(): a denial is a tool result naming who said no and why; the tool does not run', async () => {
    const script = `${TOOL}
def boom(order_id: str, amount_usd: float) -> str:
    raise RuntimeError("the tool ran")
gated = hitl.gate(boom, action="refund", agent="billing-bot", reviewer_group="support-leads", risk={"class": "financial", "reversible": False}, reason="customer asked")
print(gated(order_id="O-9003", amount_usd=90, tool_call_id="py-deny"))`;
    const run = python(script);
    await decide(requestIdOf('py-deny'), { choice: 'deny', reason: 'already refunded' });
    expect(ok(await run)).toBe('Not done: refund was denied by lead@example.com: already refunded. Do not retry it unchanged.');
  });

  it('gate(): an expiry under the deny fallback says nobody approved in time, with the policy', async () => {
    const script = `${TOOL}
gated = hitl.gate(refund, agent="billing-bot", reviewer_group="support-leads", risk={"class": "financial", "reversible": False}, reason="customer asked", ttl_seconds=300, fallback="deny")
print(gated(order_id="O-9004", amount_usd=10, tool_call_id="py-expire"))`;
    const run = python(script);
    const requestId = requestIdOf('py-expire');
    await stack.waitForReviewEmails(requestId, { count: 2, timeoutMs: 30_000 });
    const listed = await stack.clients.scheduler.send(new ListSchedulesCommand({ GroupName: stack.scheduleGroup }));
    const details = await Promise.all((listed.Schedules ?? []).map((s) => stack.clients.scheduler.send(new GetScheduleCommand({ Name: s.Name, GroupName: s.GroupName }))));
    const mine = details.find((d) => d.Target?.Input?.includes(requestId));
    const parsed = parseExpression(mine!.ScheduleExpression!, mine!.ScheduleExpressionTimezone ?? 'UTC');
    if (parsed?.kind !== 'at') throw new Error(`expected a one-time schedule, got ${mine!.ScheduleExpression}`);
    await stack.scheduler.advanceTo(parsed.at);
    const text = ok(await run);
    expect(text).toMatch(/^Not done: nobody approved refund in time/);
    expect(text).toContain('policy fallback-deny');
  });

  it('cancel() stops the execution and wait() returns a cancelled Decision; wait(timeout) gives up without ending it', async () => {
    const script = `${TOOL}
handle = hitl.start(${REQUEST('py-cancel', 'O-9005')})
try:
    handle.wait(timeout=0.3)
    print("decided?")
except ReviewWaitTimeout:
    print("timed out", handle.status())
handle.cancel("the customer withdrew")
print(json.dumps(handle.wait(timeout=30)))
print(handle.status())`;
    const lines = ok(await python(script)).split('\n');
    expect(lines[0]).toBe('timed out RUNNING');
    expect(JSON.parse(lines[1]!)).toMatchObject({ requestId: requestIdOf('py-cancel'), outcome: 'cancelled', reason: 'the customer withdrew' });
    expect(lines[2]).toBe('ABORTED');
  });

  it.skipIf(!hasPip)('pip wheel builds it; installed outside the repository, the README agent runs against the local stack', async () => {
    const wheels = join(dir, 'wheels');
    // Asynchronously: the local stack serves from this process and must keep answering meanwhile.
    const run = promisify(execFile);
    await run(PYTHON, ['-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '--quiet', '-w', wheels, PACKAGE_DIR]);
    const wheel = readdirSync(wheels).find((f) => f.endsWith('.whl'));
    expect(wheel).toMatch(/^hitl_client-0\.1\.0-py3-none-any\.whl$/);
    const site = join(dir, 'site');
    await run(PYTHON, ['-m', 'pip', 'install', '--no-deps', '--no-index', '--quiet', '--target', site, join(wheels, wheel!)]);
    expect(existsSync(join(site, 'hitl_client', 'py.typed'))).toBe(true);

    const agentDir = join(dir, 'agent');
    mkdirSync(agentDir);
    writeFileSync(join(agentDir, 'agent.py'), readmeAgent('python'));
    const agent = python(`exec(open("agent.py").read())`, { pythonPath: site, cwd: agentDir });
    await decide(requestIdOf('call_2'), { choice: 'modify', 'arg.order_id': 'O-9421', 'arg.amount_usd': '300' });
    expect(ok(await agent)).toBe('refunded 300 USD on O-9421');
  });
});
