/**
 * The SDK calls one approval makes, counted by the benchmark's recorder (local/bench/sdk-calls.ts) on the local
 * stack: a creation (route and request, until the reviewers are emailed), the reviewer's page, and the decision
 * (respond's POST, settle, conclude). Counts are deterministic, so a change that adds a call fails here; a change
 * that removes one updates the figures (and docs/benchmarks.md).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countOneApproval, type ApprovalCount } from '#local/bench/approval-cost.ts';
import { SdkCallRecorder } from '#local/bench/sdk-calls.ts';
import { REPO_ROOT, startLocalStack, type LocalStack } from '#local/stack.ts';

let stack: LocalStack;
let recorder: SdkCallRecorder;
let stateDir: string;
let counted: ApprovalCount;

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'hitl-calls-'));
  stack = await startLocalStack({
    stateDir,
    ports: { respond: 0, ses: 0, sfn: 0, scheduler: 0, dynamodb: 0, secretsManager: 0, events: 0 },
    cdkOutDir: join(REPO_ROOT, 'node_modules', '.cache', 'hitl-local', 'cdk.out-bench'),
    functionLogLevel: 'ERROR',
    log: () => undefined,
  });
  recorder = new SdkCallRecorder().install().ignore(...Object.values(stack.clients));
  await countOneApproval(stack, recorder, 'warm-up'); // the signing key is read once per warm function
  counted = await countOneApproval(stack, recorder, 'counted');
}, 180_000);

afterAll(async () => {
  recorder?.uninstall();
  await stack?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe('SDK calls of one approval', () => {
  it('a creation makes 9, the reviewer\'s page 1, and the decision 11 (respond, settle, conclude)', () => {
    expect(counted.phases).toEqual({ creation: 9, page: 1, decision: 11 });
  });

  it('by call: what each of the 21 is', () => {
    expect(counted.calls).toEqual({
      'DynamoDB GetItem': 7,
      'DynamoDB TransactWriteItems': 4,
      'DynamoDB UpdateItem': 3,
      'EventBridge PutEvents': 1,
      'SES SendEmail': 3,
      'SFN SendTaskSuccess': 1,
      'Scheduler CreateSchedule': 1,
      'Scheduler DeleteSchedule': 1,
    });
  });
});
