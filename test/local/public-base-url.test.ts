/**
 * A config with `publicBaseUrl` (a custom domain for review links) still runs on the local stack: the emailed
 * links lead to the local respond server, and a decision posted there resumes the execution.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_REQUEST } from '#local/demo-agent.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';
import { stackReads } from '../support/stack-reads.ts';

const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: { hitl: Record<string, unknown> } };

describe('publicBaseUrl on the local stack', () => {
  let stack: TestStack;
  const { start, linkFor, outcome } = stackReads(() => stack);
  beforeAll(async () => {
    stack = await startTestStack({ context: { hitl: { ...cdkJson.context.hitl, publicBaseUrl: 'https://review.example.com' } } });
  });
  afterAll(async () => stack?.stop());

  it('emails links to the local respond server, which takes the decision', async () => {
    const { executionArn, requestId } = await start({ ...DEMO_REQUEST, idempotencyKey: 'custom-domain-1' });
    const link = await linkFor(requestId, 'lead@example.com');
    expect(link.startsWith(`${stack.endpoints.respond}/r/`)).toBe(true);
    expect((await stack.submit(link, { choice: 'approve', round: '1' })).status).toBe(200);
    expect(await outcome(executionArn)).toMatchObject({ status: 'SUCCEEDED', decision: { outcome: 'approved', decidedBy: 'lead@example.com' } });
  });
});
