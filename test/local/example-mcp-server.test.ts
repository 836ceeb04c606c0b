/**
 * examples/mcp-server against the local stack: the MCP SDK's Client calls `request_human_review` over an
 * in-memory transport, progress notifications with the time left arrive while the review waits, and the
 * tool returns the Decision the reviewer chose (approve, modify); a cancelled call cancels the review.
 */
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '#local/clock.ts';
import { Hitl } from '../../clients/typescript/src/index.ts';
import { hitlMcpServer } from '../../examples/mcp-server/server.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';

describe('MCP server example on the local stack', () => {
  let stack: TestStack;
  let client: Client;

  beforeAll(async () => {
    stack = await startTestStack({ clock: new ManualClock() });
    const hitl = new Hitl({ localFile: join(stack.stateDir, 'local.json'), poll: { min: 50, max: 200 } });
    const server = hitlMcpServer({ hitl, agent: 'billing-bot', reviewerGroup: 'support-leads', progressEveryMs: 200 });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    client = new Client({ name: 'test-agent', version: '0.0.0' });
    await client.connect(clientSide);
  });

  afterAll(async () => {
    await client?.close();
    await stack?.stop();
  });

  const requestIdOf = (key: string) => stack.requestIdOf('unused', { agent: 'billing-bot', idempotencyKey: key });
  const args = (key: string, orderId: string) => ({
    action: { name: 'refund', args: { order_id: orderId, amount_usd: 300 } },
    reason: 'duplicate charge',
    risk: { class: 'financial', reversible: false },
    ttlSeconds: 300,
    idempotencyKey: key,
  });

  /** Call the tool; once two progress notifications arrived, the reviewer posts their choice. */
  async function callAndDecide(key: string, orderId: string, fields: Record<string, string>) {
    const progress: Progress[] = [];
    const call = client.callTool({ name: 'request_human_review', arguments: args(key, orderId) }, undefined, { onprogress: (p) => progress.push(p), timeout: 60_000 });
    const [email] = await stack.waitForReviewEmails(requestIdOf(key), { to: 'lead@example.com', timeoutMs: 30_000 });
    await expect.poll(() => progress.length, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    expect((await stack.submit(stack.reviewLinks(email!)[0]!, { round: '1', ...fields })).status).toBe(200);
    return { result: await call, progress };
  }

  it('lists the tool with its input and output schemas', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(['request_human_review']);
    expect(tools[0]!.inputSchema.required).toEqual(expect.arrayContaining(['action', 'reason', 'risk']));
    expect(tools[0]!.outputSchema?.properties).toHaveProperty('outcome');
  });

  it('approve: progress reports the time left, then the Decision comes back', async () => {
    const { result, progress } = await callAndDecide('mcp-approve', 'O-5001', { choice: 'approve' });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ requestId: requestIdOf('mcp-approve'), outcome: 'approved', decidedBy: 'lead@example.com', approvedArgs: { order_id: 'O-5001', amount_usd: 300 } });
    expect(progress[0]).toMatchObject({ total: 300, message: expect.stringMatching(/^waiting for support-leads: about \d+ s left$/) });
    const values = progress.map((p) => p.progress);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(new Set(values).size).toBe(values.length);
  });

  it('modify: the Decision carries the reviewer’s arguments', async () => {
    const { result } = await callAndDecide('mcp-modify', 'O-5002', { choice: 'modify', 'arg.order_id': 'O-5002', 'arg.amount_usd': '120' });
    expect(result.structuredContent).toMatchObject({ outcome: 'modified', proposedArgs: { amount_usd: 300 }, approvedArgs: { order_id: 'O-5002', amount_usd: 120 } });
    expect(JSON.parse((result.content as { text: string }[])[0]!.text)).toEqual(result.structuredContent);
  });

  it('a cancelled call cancels the review', async () => {
    const controller = new AbortController();
    const call = client.callTool({ name: 'request_human_review', arguments: args('mcp-cancel', 'O-5003') }, undefined, { signal: controller.signal });
    await stack.waitForReviewEmails(requestIdOf('mcp-cancel'), { to: 'lead@example.com', timeoutMs: 30_000 });
    controller.abort('the agent moved on');
    await expect(call).rejects.toThrow();
    const hitl = new Hitl({ localFile: join(stack.stateDir, 'local.json'), poll: { min: 50, max: 200 } });
    // Asking again with the same key gets the one Decision: cancelled by the MCP client.
    const again = await hitl.review({ kind: 'approval', agent: 'billing-bot', reviewerGroup: 'support-leads', ...args('mcp-cancel', 'O-5003') }, { timeout: 30_000 });
    expect(again).toMatchObject({ requestId: requestIdOf('mcp-cancel'), outcome: 'cancelled' });
  });
});
