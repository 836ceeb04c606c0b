/**
 * An MCP server with one tool, `request_human_review`: it starts a hitl review, sends progress notifications
 * with the time left while a person decides, and returns the Decision. A client that cancels the call
 * cancels the review. Run it over stdio: `npx tsx examples/mcp-server/server.ts`.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
import { Decision, Hitl, JsonValue, ReviewWaitAbortedError } from '../../clients/typescript/src/index.ts'; // '@hitl/client'

export interface ServerOptions {
  hitl?: Hitl;
  /** The agent's name and the reviewer group are the server's to set, not the caller's. */
  agent: string;
  reviewerGroup: string;
  /** How often to report the time left, in ms. */
  progressEveryMs?: number;
}

export function hitlMcpServer({ hitl = new Hitl(), agent, reviewerGroup, progressEveryMs = 10_000 }: ServerOptions): McpServer {
  const server = new McpServer({ name: 'hitl', version: '0.1.0' });
  const inputSchema = {
    action: z.object({ name: z.string(), args: z.record(z.string(), JsonValue) }).describe('The action to approve'),
    reason: z.string().describe('Why the agent wants to take it'),
    risk: z.object({ class: z.string(), reversible: z.boolean() }),
    ttlSeconds: z.number().int().default(300).describe('How long a person has to decide'),
    idempotencyKey: z.string().optional().describe('The same key gets the same Decision'),
  };
  server.registerTool('request_human_review', { description: 'Ask a person to approve, change or deny an action; waits for the Decision.', inputSchema, outputSchema: Decision }, async (input, extra) => {
    const handle = await hitl.start({ kind: 'approval', agent, reviewerGroup, ...input });
    const onCancel = () => void handle.cancel('the MCP client cancelled the call').catch(() => {});
    extra.signal.addEventListener('abort', onCancel, { once: true });
    const started = Date.now();
    const token = extra._meta?.progressToken;
    try {
      for (;;) {
        try {
          const decision = await handle.wait({ timeout: progressEveryMs });
          return { content: [{ type: 'text', text: JSON.stringify(decision) }], structuredContent: decision };
        } catch (err) {
          if (!(err instanceof ReviewWaitAbortedError)) throw err;
        }
        const waited = (Date.now() - started) / 1000; // progress must grow with each notification
        const left = Math.max(0, Math.round(input.ttlSeconds - waited));
        if (token !== undefined) {
          await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: waited, total: input.ttlSeconds, message: `waiting for ${reviewerGroup}: about ${left} s left` } });
        }
      }
    } finally {
      extra.signal.removeEventListener('abort', onCancel);
    }
  });
  return server;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await hitlMcpServer({ agent: process.env.HITL_AGENT ?? 'mcp-agent', reviewerGroup: process.env.HITL_REVIEWER_GROUP ?? 'support-leads' }).connect(new StdioServerTransport());
}
