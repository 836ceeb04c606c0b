/**
 * examples/langgraph against the local stack: a Python LangGraph graph pauses with interrupt(), the runner
 * asks hitl, a reviewer decides in the mail viewer, and the graph resumes with the Decision: the refund
 * made with the reviewer's amount, or the refusal; a restarted runner gets the same Decision without a
 * second review. Needs `langgraph` importable by /usr/bin/python3 (examples/langgraph/requirements.txt);
 * skipped, saying why, where it is not.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#local/clock.ts';
import { REPO_ROOT } from '#local/stack.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';

const PYTHON = '/usr/bin/python3';
const PYTHONPATH = [join(REPO_ROOT, 'examples', 'langgraph'), join(REPO_ROOT, 'clients', 'python'), process.env.PYTHONPATH].filter(Boolean).join(delimiter);

function importable(modules: string): boolean {
  try {
    execFileSync(PYTHON, ['-c', `import ${modules}`], { stdio: 'ignore', env: { ...process.env, PYTHONPATH } });
    return true;
  } catch {
    return false;
  }
}
const ready = existsSync(PYTHON) && importable('boto3, langgraph');
if (!ready) console.warn(`Skipping the LangGraph example test: ${PYTHON} cannot import boto3 and langgraph (pip install -r examples/langgraph/requirements.txt)`);

describe.skipIf(!ready)('LangGraph example on the local stack', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startTestStack({ clock: new ManualClock() });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  /** Run the graph on a thread in a Python process of its own, as an agent would; its printed result. */
  function runGraph(thread: string, orderId: string, amount: number): Promise<string> {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('HITL_')));
    Object.assign(env, { HITL_LOCAL_FILE: join(stack.stateDir, 'local.json'), PYTHONPATH, PYTHONDONTWRITEBYTECODE: '1' });
    const script = `from refund_graph import build_graph, run\nfrom hitl_client import Hitl\nprint(run(build_graph(), Hitl(poll=(0.05, 0.2)), "${thread}", "${orderId}", ${amount}))`;
    return new Promise((resolve, reject) => {
      const child = spawn(PYTHON, ['-c', script], { env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => (code === 0 ? resolve(stdout.trim()) : reject(new Error(`python exited ${code}: ${stderr}`))));
    });
  }

  const requestIdOf = (thread: string) => stack.requestIdOf('unused', { agent: 'billing-bot', idempotencyKey: `refund-${thread}` });

  async function decide(thread: string, fields: Record<string, string>): Promise<void> {
    const [email] = await stack.waitForReviewEmails(requestIdOf(thread), { to: 'lead@example.com', timeoutMs: 30_000 });
    expect((await stack.submit(stack.reviewLinks(email!)[0]!, { round: '1', ...fields })).status).toBe(200);
  }

  it('a modification: the graph resumes and the refund node uses the reviewer’s amount', async () => {
    const run = runGraph('lg-modify', 'O-4001', 300);
    await decide('lg-modify', { choice: 'modify', 'arg.order_id': 'O-4001', 'arg.amount_usd': '250' });
    expect(await run).toBe('refunded 250 USD on O-4001');
  });

  it('a denial: the refund node writes who said no and why instead of refunding', async () => {
    const run = runGraph('lg-deny', 'O-4002', 90);
    await decide('lg-deny', { choice: 'deny', reason: 'already refunded' });
    expect(await run).toBe('Not done: refund was denied by lead@example.com: already refunded. Do not retry it unchanged.');
  });

  it('a runner restarted on the same thread gets the same Decision without a second review', async () => {
    expect(await runGraph('lg-modify', 'O-4001', 300)).toBe('refunded 250 USD on O-4001');
    expect(await stack.reviewEmails(requestIdOf('lg-modify'))).toHaveLength(2); // the two tier-1 leads, once
  });
});
