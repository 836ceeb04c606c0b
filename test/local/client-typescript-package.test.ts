/**
 * The TypeScript client as a user gets it: `npm pack` builds it (ESM with declarations), a scratch project
 * in a temporary directory outside the repository installs the tarball, and the README's agent runs there
 * against the local stack, found through HITL_LOCAL_FILE. Run twice, it gets the same Decision (the tool-call
 * id is the idempotency key) without a second review.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '#local/stack.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';
import { readmeAgent } from '../support/readme-agents.ts';

const run = promisify(execFile);
const PACKAGE_DIR = join(REPO_ROOT, 'clients', 'typescript');

/** The environment of a user's shell: no AWS settings of the test process leak into the agent. */
function userEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('HITL_')));
  return { ...env, ...extra };
}

function runAgent(cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), ['agent.ts'], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the packed TypeScript client in a project outside the repository', () => {
  let stack: TestStack;
  let dir: string;
  let scratch: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hitl-client-ts-'));
    scratch = join(dir, 'agent');
    const [started] = await Promise.all([
      startTestStack(),
      (async () => {
        await run('npm', ['pack', '--pack-destination', dir], { cwd: PACKAGE_DIR });
        await run('mkdir', ['-p', scratch]);
        writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch-agent', private: true, type: 'module' }));
        const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
        await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, tarball)], { cwd: scratch });
        writeFileSync(join(scratch, 'agent.ts'), readmeAgent('typescript'));
      })(),
    ]);
    stack = started;
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is ESM with type declarations, built from the package alone, depending on the SFN client and zod only', () => {
    const installed = join(scratch, 'node_modules', '@hitl', 'client');
    const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    expect(manifest.type).toBe('module');
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['@aws-sdk/client-sfn', 'zod']);
    for (const f of ['index.js', 'index.d.ts', 'client.js', 'gate.d.ts', 'contract.js']) expect(existsSync(join(installed, 'dist', f))).toBe(true);
    expect(existsSync(join(installed, 'src'))).toBe(false);
    expect(readFileSync(join(installed, 'dist', 'index.js'), 'utf8')).not.toMatch(/#shared|\.ts['"]/);
  });

  it('runs the README agent: the reviewer lowers the refund and the tool runs with the new amount; a rerun gets the same Decision', async () => {
    const env = userEnv({ HITL_LOCAL_FILE: join(stack.stateDir, 'local.json') });
    const agent = runAgent(scratch, env);
    const requestId = stack.requestIdOf('unused', { agent: 'billing-bot', idempotencyKey: 'call_1' });
    const [email] = await stack.waitForReviewEmails(requestId, { to: 'lead@example.com', timeoutMs: 60_000 });
    expect((await stack.submit(stack.reviewLinks(email!)[0]!, { choice: 'modify', round: '1', 'arg.order_id': 'O-9421', 'arg.amount_usd': '300' })).status).toBe(200);
    const first = await agent;
    // stderr may hold the SDK's Node.js version notice, never an error.
    expect(first.stderr).not.toMatch(/error/i);
    expect(first.stdout.trim(), first.stderr).toBe('refunded 300 USD on O-9421');
    expect(first.code).toBe(0);

    const again = await runAgent(scratch, env);
    expect(again.stdout.trim()).toBe('refunded 300 USD on O-9421');
    expect(await stack.reviewEmails(requestId)).toHaveLength(2); // the first run's, to the two tier-1 leads
  });
});
