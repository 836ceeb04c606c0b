/** Reading a test stack's tables and waiting on them: a request's row and log events, a personal link for anyone. */
import { readFileSync } from 'node:fs';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Decision } from '#shared/schemas/decision.ts';
import { parseKeyRing, reviewUrl } from '#shared/signing.ts';
import type { LogEvent, StoredRequest } from '#shared/store/model.ts';
import type { TestStack } from './local-stack.ts';

export function stackReads(stack: () => TestStack) {
  const row = async (requestId: string): Promise<StoredRequest | undefined> => {
    const out = await stack().clients.doc.send(new GetCommand({ TableName: stack().tables.requests, Key: { requestId }, ConsistentRead: true }));
    return out.Item as StoredRequest | undefined;
  };
  const events = async (requestId: string): Promise<LogEvent[]> => {
    const out = await stack().clients.doc.send(
      new QueryCommand({ TableName: stack().tables.decisions, KeyConditionExpression: 'requestId = :id', ExpressionAttributeValues: { ':id': requestId }, ConsistentRead: true }),
    );
    return (out.Items ?? []) as LogEvent[];
  };
  const until = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  return {
    row,
    events,
    until,
    /** Start an execution; its request id as the route function derives it. */
    async start(input: unknown, name?: string): Promise<{ executionArn: string; requestId: string }> {
      const s = stack();
      const out = await s.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: s.stateMachineArn, input: JSON.stringify(input), name }));
      return { executionArn: out.executionArn!, requestId: s.requestIdOf(out.executionArn!, input as { agent: string; idempotencyKey?: string }) };
    },
    /** Wait until the request is pending and its round was emailed. */
    pending: (requestId: string) =>
      until(`${requestId} pending and notified`, async () => {
        const r = await row(requestId);
        return r?.status === 'PENDING' && r.notifiedRound === r.round ? r : undefined;
      }),
    /** The execution's end: status, and the Decision or the error. */
    async outcome(executionArn: string): Promise<{ status: string; decision?: Decision; error?: string; cause?: string }> {
      const done = await stack().waitForExecution(executionArn);
      return {
        status: done.status!,
        ...(done.output ? { decision: JSON.parse(done.output) as Decision } : {}),
        ...(done.error ? { error: done.error } : {}),
        ...(done.cause ? { cause: done.cause } : {}),
      };
    },
    /** The personal link in the email to `approver`. */
    async linkFor(requestId: string, approver: string): Promise<string> {
      const [email] = await stack().waitForReviewEmails(requestId, { to: approver });
      return stack().reviewLinks(email!)[0]!;
    },
    /** A link signed with the stack's key for anyone, as if they had been emailed one. */
    signedLink(requestId: string, approver: string): string {
      const ring = parseKeyRing(readFileSync(stack().signingKeyFile, 'utf8'));
      return reviewUrl(stack().endpoints.respond, { requestId, approver, expiresAt: Math.floor(Date.now() / 1000) + 3600 }, ring);
    },
  };
}
