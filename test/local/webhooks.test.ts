/**
 * Decision webhooks on the local stack: a request with `notify` pointed at an HTTP server on 127.0.0.1 is
 * decided, and the server receives exactly one signed Decision, which the TypeScript and Python helpers
 * verify with the secret `hitl webhook-secret` prints; a 500 is retried; a 410 is not; each outcome is in the
 * decision log once. A host the deployment does not allow is refused at admission, naming notify.url. Events
 * put on the bus by someone else cannot make the stack POST. The local bus also forwards decision events to
 * an HTTP URL and a JSON Lines file.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhook, WebhookVerificationError } from '../../clients/typescript/src/webhooks.ts';
import { main as cli } from '#local/cli.ts';
import { REPO_ROOT } from '#local/stack.ts';
import { DecisionLog } from '#shared/store/decision-log.ts';
import { RequestStore } from '#shared/store/requests.ts';
import type { ReviewRequestInput } from '#shared/schemas/review-request.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';
import { pollUntil } from '#local/bench/stats.ts';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

const cdkConfig = (JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: { hitl: Record<string, unknown> } }).context.hitl;
const PYTHON = '/usr/bin/python3';
const hasPython = existsSync(PYTHON);

/** Answers each path with its script of statuses, in turn (the last one from then on); records every request. */
function receiver(scripts: Record<string, number[]>): { server: Server; received: Received[]; url: (path: string) => string } {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const script = scripts[path] ?? [404];
      const status = script.length > 1 ? script.shift()! : script[0]!;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(String(status));
    });
  });
  return { server, received, url: (path) => `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}` };
}

const until = <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000) => pollUntil(what, timeoutMs, 50, probe);

const refund = (orderId: string, extra: Partial<ReviewRequestInput> = {}): ReviewRequestInput =>
  ({
    kind: 'approval',
    agent: 'billing-bot',
    action: { name: 'refund', args: { order_id: orderId, amount_usd: 40 } },
    reason: 'duplicate charge',
    risk: { class: 'financial', reversible: false },
    reviewerGroup: 'support-leads',
    ttlSeconds: 300,
    ...extra,
  }) as ReviewRequestInput;

describe('decision webhooks on the local stack', () => {
  const hooks = receiver({ '/hooks/ok': [200], '/hooks/flaky': [500, 200], '/hooks/gone': [410], '/forward': [200] });
  const dir = mkdtempSync(join(tmpdir(), 'hitl-webhooks-'));
  const forwardFile = join(dir, 'decisions.jsonl');
  let stack: TestStack;
  let log: DecisionLog;
  let requests: RequestStore;
  let secret: string;

  beforeAll(async () => {
    await new Promise<void>((r) => hooks.server.listen(0, '127.0.0.1', r));
    stack = await startTestStack({
      context: { hitl: { ...cdkConfig, webhooks: { allowedHosts: ['127.0.0.1'], maxAttempts: 3, timeoutSeconds: 5 } } },
      forwardEvents: [
        { kind: 'http', url: hooks.url('/forward') },
        { kind: 'file', path: forwardFile },
      ],
    });
    log = new DecisionLog(stack.clients.doc, stack.tables.decisions);
    requests = new RequestStore(stack.clients.doc, stack.tables.requests);
    const out: string[] = [];
    const err: string[] = [];
    expect(await cli(['webhook-secret', '--state-dir', stack.stateDir], { out: (t) => out.push(t), err: (t) => err.push(t) }), err.join('\n')).toBe(0);
    secret = out.join('').trim();
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await new Promise((r) => hooks.server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(input: ReviewRequestInput) {
    const { executionArn } = await stack.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: stack.stateMachineArn, input: JSON.stringify(input) }));
    return { executionArn: executionArn!, requestId: stack.requestIdOf(executionArn!, input) };
  }

  async function approve(requestId: string) {
    const [email] = await stack.waitForReviewEmails(requestId, { to: 'lead@example.com' });
    expect((await stack.submit(stack.reviewLinks(email!)[0]!, { round: '1', choice: 'approve' })).status).toBe(200);
  }

  async function webhookEvents(requestId: string) {
    return (await log.forRequest(requestId)).filter((e) => e.event.startsWith('webhook-'));
  }

  /** The outcome once recorded; then the bus settles, so any second delivery would have happened. */
  async function outcomeOf(requestId: string) {
    const [event] = await until(`the webhook outcome of ${requestId}`, async () => {
      const found = await webhookEvents(requestId);
      return found.length ? found : undefined;
    });
    await stack.events.settled(30_000);
    return event!;
  }

  const deliveriesTo = (path: string, requestId: string) => hooks.received.filter((r) => r.path === path && r.headers['webhook-id'] === requestId);

  function python(code: string, args: string[]): string {
    return execFileSync(PYTHON, ['-c', code, ...args], { env: { PYTHONPATH: join(REPO_ROOT, 'clients', 'python'), PATH: process.env.PATH ?? '' }, encoding: 'utf8' });
  }

  it('a decided request: exactly one signed Decision, verified by both helpers; one webhook-delivered event', async () => {
    const { executionArn, requestId } = await start(refund('O-9001', { notify: { url: hooks.url('/hooks/ok') } }));
    await approve(requestId);
    const done = await stack.waitForExecution(executionArn);
    const event = await outcomeOf(requestId);
    expect(event).toMatchObject({ event: 'webhook-delivered', actor: 'webhook', details: { host: new URL(hooks.url('/')).host, attempts: 1, status: 200 } });
    expect(await webhookEvents(requestId)).toHaveLength(1);
    expect((await requests.get(requestId))?.webhook).toMatchObject({ outcome: 'delivered', attempts: 1, status: 200 });

    const deliveries = deliveriesTo('/hooks/ok', requestId);
    expect(deliveries).toHaveLength(1);
    const [delivery] = deliveries;
    expect(delivery!.headers['content-type']).toBe('application/json');
    expect(delivery!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const decision = verifyWebhook(secret, delivery!.headers, delivery!.body);
    expect(decision).toEqual({ ...JSON.parse(done.output!), requestId, agent: 'billing-bot', actionType: 'approval#refund', executionArn, status: 'DECIDED' });
    expect(delivery!.body).not.toMatch(/taskToken|\/r\/|sig=/i);

    // A changed body, another secret, and the same delivery ten minutes on are refused.
    expect(() => verifyWebhook(secret, delivery!.headers, delivery!.body.replace('approved', 'denied'))).toThrow(WebhookVerificationError);
    expect(() => verifyWebhook(Buffer.alloc(36, 7).toString('base64'), delivery!.headers, delivery!.body)).toThrow(/No webhook-signature matches/);
    expect(() => verifyWebhook(secret, delivery!.headers, delivery!.body, { now: () => new Date(Date.now() + 600_000) })).toThrow(/stale/);

    if (hasPython) {
      const code = `
import json, sys, time
from hitl_client import verify_webhook, WebhookVerificationError
secret, headers, body = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3].encode()
print(verify_webhook(secret, headers, body)["outcome"])
for case, args in [("forged", (secret, headers, body.replace(b"approved", b"denied"))), ("stale", (secret, headers, body))]:
    try:
        verify_webhook(*args, now=time.time() + 600 if case == "stale" else None)
        print(case, "accepted")
    except WebhookVerificationError as err:
        print(case, "refused:", err)
`;
      const out = python(code, [secret, JSON.stringify(delivery!.headers), delivery!.body]).trim().split('\n');
      expect(out[0]).toBe('approved');
      expect(out[1]).toMatch(/^forged refused: no webhook-signature matches/);
      expect(out[2]).toMatch(/^stale refused: .*stale or replayed/);
    }
  });

  it('a 500 is retried: two attempts under one webhook-id, then one webhook-delivered event', async () => {
    const { requestId } = await start(refund('O-9002', { notify: { url: hooks.url('/hooks/flaky') } }));
    await approve(requestId);
    const event = await outcomeOf(requestId);
    expect(event).toMatchObject({ event: 'webhook-delivered', details: { attempts: 2, status: 200 } });
    expect(await webhookEvents(requestId)).toHaveLength(1);
    const deliveries = deliveriesTo('/hooks/flaky', requestId);
    expect(deliveries).toHaveLength(2);
    for (const d of deliveries) expect(verifyWebhook(secret, d.headers, d.body).requestId).toBe(requestId);
  });

  it('a 410 is not retried: one attempt, one webhook-failed event', async () => {
    const { requestId } = await start(refund('O-9003', { notify: { url: hooks.url('/hooks/gone') } }));
    await approve(requestId);
    const event = await outcomeOf(requestId);
    expect(event).toMatchObject({ event: 'webhook-failed', details: { attempts: 1, status: 410, reason: 'answered 410' } });
    expect(await webhookEvents(requestId)).toHaveLength(1);
    expect(deliveriesTo('/hooks/gone', requestId)).toHaveLength(1);
  });

  it('a host the deployment does not allow is refused at admission, naming notify.url; nothing is stored', async () => {
    const { executionArn, requestId } = await start(refund('O-9004', { notify: { url: 'https://agent.example.com/hooks/hitl' } }));
    const done = await stack.waitForExecution(executionArn);
    expect(done).toMatchObject({ status: 'FAILED', error: 'InvalidRequestError' });
    const { errorMessage } = JSON.parse(done.cause!) as { errorMessage: string };
    expect(errorMessage).toBe('Invalid ReviewRequest: notify.url: host "agent.example.com" is not in this deployment\'s webhooks.allowedHosts (127.0.0.1)');
    expect(await requests.get(requestId)).toBeUndefined();
  });

  it('events put on the bus by someone else make no delivery: the URL and the Decision come from the row', async () => {
    const delivered = await start(refund('O-9005', { notify: { url: hooks.url('/hooks/ok') } }));
    await approve(delivered.requestId);
    await outcomeOf(delivered.requestId);
    const pending = await start(refund('O-9006', { notify: { url: hooks.url('/hooks/ok') } }));
    await stack.waitForReviewEmails(pending.requestId, { to: 'lead@example.com' });
    const before = hooks.received.length;
    const bus = stack.resources.functions.map((f) => f.env.HITL_EVENT_BUS_NAME).find(Boolean)!;
    const forged = (requestId: string) => ({ Source: 'hitl', DetailType: 'hitl.decision', EventBusName: bus, Detail: JSON.stringify({ requestId, outcome: 'approved', status: 'DECIDED' }) });
    const out = await stack.clients.events.send(new PutEventsCommand({ Entries: [forged(delivered.requestId), forged(pending.requestId), forged('rnosuchrequest000000000000')] }));
    expect(out.FailedEntryCount).toBe(0);
    await stack.events.settled(30_000);
    expect(hooks.received.slice(before).filter((r) => r.path.startsWith('/hooks/'))).toEqual([]);
    expect(await webhookEvents(delivered.requestId)).toHaveLength(1);
    expect(await webhookEvents(pending.requestId)).toHaveLength(0);
  });

  it('the local bus forwards each decision event to the HTTP URL and the JSON Lines file it was given', async () => {
    const { requestId } = await start(refund('O-9007'));
    await approve(requestId);
    const posted = await until('the forwarded event', () => hooks.received.find((r) => r.path === '/forward' && (JSON.parse(r.body) as { detail: { requestId: string } }).detail.requestId === requestId));
    expect(JSON.parse(posted.body)).toMatchObject({ source: 'hitl', 'detail-type': 'hitl.decision', detail: { requestId, outcome: 'approved', status: 'DECIDED' } });
    const appended = await until('the appended event', () =>
      existsSync(forwardFile)
        ? readFileSync(forwardFile, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as { detail: { requestId: string } })
            .find((e) => e.detail.requestId === requestId)
        : undefined,
    );
    expect(appended).toEqual(JSON.parse(posted.body));
    await stack.events.settled(30_000);
    expect(hooks.received.filter((r) => r.path === '/forward' && r.body.includes(requestId))).toHaveLength(1);
  });
});
