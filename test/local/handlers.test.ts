/**
 * The route, request, respond and conclude functions against real local DynamoDB (DynamoDB Local) and SES
 * (aws-ses-v2-local). Step Functions, the Scheduler and Secrets Manager are captured with
 * aws-sdk-client-mock. Every log line written during the run is captured and checked for task tokens.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import type { DeploymentConfigInput } from '#shared/schemas/config.ts';
import { Decision } from '#shared/schemas/decision.ts';
import type { RouteResult } from '#shared/schemas/events.ts';
import type { ReviewRequestInput } from '#shared/schemas/review-request.ts';
import { parseKeyRing, reviewUrl } from '#shared/signing.ts';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DecisionLog } from '#shared/store/decision-log.ts';
import type { LogEvent, StoredRequest } from '#shared/store/model.ts';
import { RequestStore } from '#shared/store/requests.ts';
import { startDynamo, type LocalDynamo } from '../support/dynamo.ts';
import { startSes, type SesEmulator, type StoredEmail } from '../support/ses.ts';
import { DEFAULT_PENDING_SHARDS, pendingKey } from '#shared/store/pending-shards.ts';

const BASE_URL = 'https://review.example.test';
const SECRET = JSON.stringify({ current: 'k2', k1: 'an-older-key-that-still-verifies-0001', k2: 'the-current-link-signing-key-000002' });
const ring = parseKeyRing(SECRET);
const EXPIRE_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:hitl-expire';

const config: DeploymentConfigInput = {
  sender: 'hitl@example.com',
  lowRiskClasses: ['read-only', 'internal'],
  routing: { autoApproveMinConfidence: 0.9 },
  reviewerGroups: {
    'support-leads': {
      tiers: [
        { name: 'support leads', members: ['lead@example.com', 'lead2@example.com'] },
        { name: 'support managers', members: ['manager@example.com'] },
      ],
      timeZone: 'Europe/London',
      businessHours: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' },
      defaultTtlSeconds: 1800,
      maxTtlSeconds: 86400,
    },
    solo: { tiers: [{ name: 'team', members: ['solo@example.com'] }] },
  },
};

const sfn = mockClient(SFNClient);
const scheduler = mockClient(SchedulerClient);
const secrets = mockClient(SecretsManagerClient);

let dynamo: LocalDynamo;
let ses: SesEmulator;
let requests: RequestStore;
let decisionLog: DecisionLog;
let route: typeof import('#functions/route.ts');
let request: typeof import('#functions/request.ts');
let respond: typeof import('#functions/respond.ts');
let conclude: typeof import('#functions/conclude.ts');

/** Everything written to stdout/stderr or the console while the handlers ran. */
const captured: string[] = [];
/** Every task token handed to the request function. */
const issuedTokens: string[] = [];
const schedules = new Set<string>();
/** Per-token SendTaskSuccess behaviour; the default accepts. */
const sendTaskFailures = new Map<string, Error[]>();

beforeAll(async () => {
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation(((chunk: string | Uint8Array) => {
      captured.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof stream.write);
  }
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => void captured.push(args.map(String).join(' ')));
  }

  [dynamo, ses] = await Promise.all([startDynamo(), startSes()]);
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_SES: ses.endpoint,
    HITL_REQUESTS_TABLE: dynamo.tables.requests,
    HITL_DECISIONS_TABLE: dynamo.tables.decisions,
    HITL_CONFIG: JSON.stringify(config),
    HITL_SIGNING_SECRET_ID: 'hitl/link-signing',
    HITL_BASE_URL: BASE_URL,
    HITL_SCHEDULE_GROUP: 'hitl',
    HITL_SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/hitl-scheduler',
    HITL_EXPIRE_FUNCTION_ARN: EXPIRE_ARN,
    HITL_SCHEDULE_DLQ_ARN: 'arn:aws:sqs:us-east-1:123456789012:hitl-schedule-dlq',
  });
  requests = new RequestStore(dynamo.doc, dynamo.tables.requests);
  decisionLog = new DecisionLog(dynamo.doc, dynamo.tables.decisions);
  [route, request, respond, conclude] = await Promise.all([import('#functions/route.ts'), import('#functions/request.ts'), import('#functions/respond.ts'), import('#functions/conclude.ts')]);
});

afterAll(async () => {
  vi.restoreAllMocks();
  await Promise.all([dynamo?.stop(), ses?.stop()]);
});

beforeEach(() => {
  sfn.reset();
  scheduler.reset();
  secrets.reset();
  secrets.on(GetSecretValueCommand).resolves({ SecretString: SECRET });
  sfn.on(SendTaskSuccessCommand).callsFake((input: { taskToken: string }) => {
    const failure = sendTaskFailures.get(input.taskToken)?.shift();
    if (failure) throw failure;
    return {};
  });
  scheduler.on(CreateScheduleCommand).callsFake((input: { Name: string }) => {
    if (schedules.has(input.Name)) throw new ConflictException({ Message: `Schedule ${input.Name} already exists.`, message: `Schedule ${input.Name} already exists.`, $metadata: {} });
    schedules.add(input.Name);
    return { ScheduleArn: `arn:aws:scheduler:us-east-1:123456789012:schedule/hitl/${input.Name}` };
  });
  scheduler.on(DeleteScheduleCommand).resolves({});
});

// ---------------------------------------------------------------- helpers

const refund = (over: Partial<Extract<ReviewRequestInput, { kind: 'approval' }>> = {}): ReviewRequestInput => ({
  kind: 'approval',
  agent: 'customer-support-agent',
  reason: 'customer reported defective product, attached photos confirm',
  planStep: { current: 3, total: 4 },
  context: 'customer has 6 prior orders, no prior refunds',
  risk: { class: 'financial', reversible: false },
  confidence: 0.8,
  reviewerGroup: 'support-leads',
  action: { name: 'refund', args: { order_id: 'O-9421', amount_usd: 350, notify_customer: true } },
  ...over,
});

const executionArn = () => `arn:aws:states:us-east-1:123456789012:execution:hitl:${randomUUID()}`;
const newToken = () => {
  const token = `TASKTOKEN${randomUUID().replaceAll('-', '')}`;
  issuedTokens.push(token);
  return token;
};

async function routeIt(input: unknown, arn = executionArn()): Promise<RouteResult> {
  return route.handler({ input, executionArn: arn, startedAt: new Date().toISOString() });
}

/** What the state machine does: route, then the human-review task with a fresh token. */
async function startReview(input: ReviewRequestInput) {
  const arn = executionArn();
  const routed = await routeIt(input, arn);
  if (routed.route !== 'review') throw new Error(`expected review, got ${routed.route}`);
  const taskToken = newToken();
  await request.handler({ requestId: routed.requestId, request: routed.request, taskToken, executionArn: arn });
  return { requestId: routed.requestId, taskToken, executionArn: arn, routed };
}

const LINK = /https:\/\/review\.example\.test\/r\/[^\s"<>]+/;

async function emailsTo(address: string, requestId: string): Promise<StoredEmail[]> {
  return (await ses.emails()).filter((e) => e.to.includes(address) && e.text?.includes(`/r/${requestId}?`));
}

async function linkFor(address: string, requestId: string): Promise<string> {
  const [mail] = await emailsTo(address, requestId);
  const link = mail?.text?.match(LINK)?.[0];
  if (!link) throw new Error(`no review link for ${address} on ${requestId}`);
  return link;
}

function signedLink(requestId: string, approver: string, expiresAt = Math.floor(Date.now() / 1000) + 3600): string {
  return reviewUrl(BASE_URL, { requestId, approver, expiresAt }, ring);
}

interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin', origin: BASE_URL };

async function http(method: 'GET' | 'HEAD' | 'POST', url: string, opts: { form?: Record<string, string>; body?: string; headers?: Record<string, string> } = {}): Promise<HttpResult> {
  const u = new URL(url);
  const body = opts.form ? new URLSearchParams(opts.form).toString() : (opts.body ?? null);
  const headers: Record<string, string> = {
    host: u.host,
    ...(opts.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
    ...opts.headers,
  };
  const event = {
    version: '2.0',
    routeKey: '$default',
    rawPath: u.pathname,
    rawQueryString: u.search.slice(1),
    headers,
    body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: u.host,
      domainPrefix: 'review',
      http: { method, path: u.pathname, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'test' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
  };
  const res = await respond.handler(event as Parameters<typeof respond.handler>[0], {} as Context);
  return { status: res.statusCode, headers: (res.headers ?? {}) as Record<string, string>, body: res.body };
}

const post = (url: string, form: Record<string, string>, headers: Record<string, string> = SAME_ORIGIN) => http('POST', url, { form, headers });

function sendTaskCalls(taskToken?: string) {
  return sfn.commandCalls(SendTaskSuccessCommand).filter((c) => taskToken === undefined || c.args[0].input.taskToken === taskToken);
}

function outputOf(call: ReturnType<typeof sendTaskCalls>[number]): Decision {
  return Decision.parse(JSON.parse(call.args[0].input.output ?? 'null'));
}

async function row(requestId: string): Promise<StoredRequest> {
  const r = await requests.get(requestId);
  if (!r) throw new Error(`no row ${requestId}`);
  return r;
}

async function events(requestId: string): Promise<LogEvent[]> {
  return decisionLog.forRequest(requestId);
}

async function tablesSnapshot(): Promise<unknown> {
  return { requests: await dynamo.scan(dynamo.tables.requests), decisions: await dynamo.scan(dynamo.tables.decisions) };
}

// ---------------------------------------------------------------- route

describe('route function', () => {
  it('sends a high-risk approval to review as the agent sent it (defaults applied), writing nothing yet', async () => {
    const result = await routeIt(refund());
    expect(result.route).toBe('review');
    expect(result.requestId).toMatch(/^r[0-9a-f]{24}$/);
    // The request function resolves the time box; the route passes on what the idempotency hash covers.
    expect(result.route === 'review' && result.request).toMatchObject({ fallback: 'deny' });
    expect(result.route === 'review' && result.request).not.toHaveProperty('ttlSeconds');
    expect(await requests.get(result.requestId)).toBeUndefined();
  });

  it('rejects invalid input with InvalidRequestError listing the zod paths', async () => {
    const bad = { ...refund(), reason: '', risk: { class: 'Financial!', reversible: false } };
    const err = await routeIt(bad).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'InvalidRequestError' });
    expect((err as { issues: { path: string }[] }).issues.map((i) => i.path)).toEqual(expect.arrayContaining(['reason', 'risk.class']));
  });

  it('rejects an unknown reviewer group, naming the configured ones', async () => {
    const err = await routeIt(refund({ reviewerGroup: 'finance' })).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'InvalidRequestError', issues: [{ path: 'reviewerGroup', message: expect.stringContaining('support-leads') }] });
  });

  it('refuses the approve fallback for a risk class not marked low, a hold without business hours and an over-long time box', async () => {
    const approve = await routeIt(refund({ fallback: 'approve' })).catch((e: unknown) => e);
    expect(approve).toMatchObject({ name: 'InvalidRequestError', issues: [{ path: 'fallback', message: expect.stringContaining('financial') }] });
    const hold = await routeIt(refund({ reviewerGroup: 'solo', fallback: 'hold' })).catch((e: unknown) => e);
    expect(hold).toMatchObject({ name: 'InvalidRequestError', issues: [{ path: 'fallback', message: expect.stringContaining('business hours') }] });
    const ttl = await routeIt(refund({ ttlSeconds: 90000 })).catch((e: unknown) => e);
    expect(ttl).toMatchObject({ name: 'InvalidRequestError', issues: [{ path: 'ttlSeconds' }] });
  });

  it('auto-approves a low-risk reversible confident approval and records it like any decision', async () => {
    const input = refund({ risk: { class: 'internal', reversible: true }, confidence: 0.97, action: { name: 'crm.tag', args: { id: 'c-7' } } });
    const result = await routeIt(input);
    expect(result).toMatchObject({ route: 'decided', decision: { outcome: 'approved', decidedBy: 'policy:auto-approve', policy: { name: 'auto-approve' } } });
    const stored = await row(result.requestId);
    expect(stored).toMatchObject({ status: 'DECIDED', decision: { outcome: 'approved', approvedArgs: { id: 'c-7' } } });
    expect(stored.pendingGroup).toBeUndefined();
    const log = await events(result.requestId);
    expect(log.map((e) => e.event)).toEqual(['created', 'decided']);
    expect(log[1]).toMatchObject({ actor: 'policy:auto-approve', agent: 'customer-support-agent', actionType: 'approval#crm.tag', day: stored.createdAt.slice(0, 10) });
    const window = { from: new Date(Date.now() - 60_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() };
    expect((await decisionLog.decisionsByActionType('approval#crm.tag', window)).map((e) => e.requestId)).toEqual([result.requestId]);
    expect(sendTaskCalls()).toHaveLength(0);
  });

  it('answers a confident disambiguation with the first option', async () => {
    const result = await routeIt({
      kind: 'disambiguation',
      agent: 'support-agent',
      reason: 'two open orders',
      risk: { class: 'read-only', reversible: true },
      confidence: 0.9,
      reviewerGroup: 'support-leads',
      question: 'Which order?',
      options: [
        { id: 'o-1', label: 'O-1' },
        { id: 'o-2', label: 'O-2' },
      ],
    });
    expect(result).toMatchObject({ route: 'decided', decision: { outcome: 'answered', chosenOption: { id: 'o-1' }, policy: { name: 'auto-answer' } } });
  });
});

// ---------------------------------------------------------------- request

describe('request function', () => {
  it('stores the pending request with its token, schedules the expiry and emails each tier-1 member a personal link', async () => {
    const before = Date.now();
    const { requestId, taskToken, executionArn: arn } = await startReview(refund());
    const stored = await row(requestId);
    expect(stored).toMatchObject({ status: 'PENDING', tier: 1, round: 1, taskToken, executionArn: arn, pendingGroup: pendingKey('support-leads', requestId, DEFAULT_PENDING_SHARDS), actionType: 'approval#refund', notifiedTier: 1, notifiedRound: 1 });
    const expiresAt = Date.parse(stored.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 1800_000);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 1800_000);

    const [create] = scheduler.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input);
    expect(create).toMatchObject({
      Name: `hitl-${requestId}-r1`,
      GroupName: 'hitl',
      ScheduleExpression: `at(${stored.expiresAt.slice(0, 19)})`,
      ScheduleExpressionTimezone: 'UTC',
      ActionAfterCompletion: 'DELETE',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: EXPIRE_ARN, RoleArn: expect.stringContaining(':role/'), DeadLetterConfig: { Arn: expect.stringContaining(':sqs:') } },
    });
    expect(JSON.parse(create?.Target?.Input ?? '{}')).toEqual({ action: 'expire', requestId, tier: 1, round: 1 });

    const lead = await emailsTo('lead@example.com', requestId);
    const lead2 = await emailsTo('lead2@example.com', requestId);
    expect(lead).toHaveLength(1);
    expect(lead2).toHaveLength(1);
    expect(await emailsTo('manager@example.com', requestId)).toHaveLength(0);
    const [link1, link2] = [await linkFor('lead@example.com', requestId), await linkFor('lead2@example.com', requestId)];
    expect(new URL(link1).searchParams.get('a')).toBe('lead@example.com');
    expect(new URL(link2).searchParams.get('a')).toBe('lead2@example.com');
    expect(link1).not.toBe(link2);
    expect((await events(requestId)).map((e) => e.event)).toEqual(['created', 'notified']);
  });

  it('on a Step Functions retry with a new token refreshes the token without emailing again', async () => {
    const { requestId, routed, executionArn: arn } = await startReview(refund());
    const mailsBefore = (await ses.emails()).length;
    const retryToken = newToken();
    const result = await request.handler({ requestId, request: routed.route === 'review' ? routed.request : null, taskToken: retryToken, executionArn: arn });
    expect(result).toEqual({ requestId, status: 'already-notified' });
    expect((await ses.emails()).length).toBe(mailsBefore);
    expect((await row(requestId)).taskToken).toBe(retryToken);
    expect((await events(requestId)).map((e) => e.event)).toEqual(['created', 'notified']);
  });

  it('a round replayed after a crash mid-send emails only the reviewers not recorded as sent', async () => {
    const { requestId, routed, executionArn: arn } = await startReview(refund());
    const sent = await row(requestId);
    expect(Object.keys(sent.deliveries ?? {}).sort()).toEqual(['1:lead2@example.com', '1:lead@example.com']);
    // As if the function died after SES accepted lead's email and before lead2's, and before the round was marked.
    await dynamo.doc.send(
      new UpdateCommand({ TableName: dynamo.tables.requests, Key: { requestId }, UpdateExpression: 'REMOVE deliveries.#k, notifiedTier, notifiedRound', ExpressionAttributeNames: { '#k': '1:lead2@example.com' } }),
    );
    const result = await request.handler({ requestId, request: routed.route === 'review' ? routed.request : null, taskToken: newToken(), executionArn: arn });
    expect(result).toEqual({ requestId, status: 'notified' });
    expect(await emailsTo('lead@example.com', requestId)).toHaveLength(1);
    expect(await emailsTo('lead2@example.com', requestId)).toHaveLength(2);
    expect((await events(requestId)).filter((e) => e.event === 'notified').at(-1)).toMatchObject({ details: { recipients: ['lead2@example.com'], alreadySent: ['lead@example.com'] } });
    expect((await events(requestId)).filter((e) => e.event === 'created')).toHaveLength(1);
  });

  it('lets a retry with the same key and content wait for the one Decision, and both executions get it', async () => {
    const input = refund({ idempotencyKey: `refund-${randomUUID()}` });
    const first = await startReview(input);
    const other = executionArn();
    const routed = await routeIt(input, other);
    expect(routed).toMatchObject({ route: 'review', requestId: first.requestId });
    const waiterToken = newToken();
    const waiting = await request.handler({ requestId: routed.requestId, request: routed.route === 'review' ? routed.request : null, taskToken: waiterToken, executionArn: other });
    expect(waiting).toEqual({ requestId: first.requestId, status: 'waiting' });
    expect(await row(first.requestId)).toMatchObject({ taskToken: first.taskToken, waiters: { [other]: waiterToken } });
    expect(await emailsTo('lead@example.com', first.requestId)).toHaveLength(1);

    const res = await post(await linkFor('lead@example.com', first.requestId), { choice: 'approve', round: '1' });
    expect(res.status).toBe(200);
    const [mine, theirs] = [sendTaskCalls(first.taskToken), sendTaskCalls(waiterToken)];
    expect(mine).toHaveLength(1);
    expect(theirs).toHaveLength(1);
    expect(outputOf(theirs[0]!)).toEqual(outputOf(mine[0]!));
    expect((await row(first.requestId)).waiters).toBeUndefined();
    expect((await events(first.requestId)).filter((e) => e.event === 'replayed')).toHaveLength(1);
  });

  it('refuses the same idempotency key with other content, storing and emailing nothing', async () => {
    const key = `refund-${randomUUID()}`;
    const first = await startReview(refund({ idempotencyKey: key }));
    const before = await tablesSnapshot();
    const wire = refund({ idempotencyKey: key, action: { name: 'wire_transfer', args: { amount_usd: 5000 } } });
    const err = await routeIt(wire).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'IdempotencyConflictError', message: expect.stringContaining(key) });
    // The request function refuses it too (a route that ran before the first request was stored).
    const again = await request.handler({ requestId: first.requestId, request: wire, taskToken: newToken(), executionArn: executionArn() }).catch((e: unknown) => e);
    expect(again).toMatchObject({ name: 'IdempotencyConflictError' });
    expect(await tablesSnapshot()).toEqual(before);
    expect(await emailsTo('lead@example.com', first.requestId)).toHaveLength(1);
  });

  it('rejects invalid input before writing anything', async () => {
    const before = await tablesSnapshot();
    const err = await request
      .handler({ requestId: 'r000000000000000000000000', request: { ...refund(), action: { name: 'refund', args: 'all of it' } }, taskToken: newToken(), executionArn: executionArn() })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'InvalidRequestError', issues: [{ path: 'action.args' }] });
    expect(await tablesSnapshot()).toEqual(before);
  });
});

// ---------------------------------------------------------------- respond

describe('respond function', () => {
  it('GET and HEAD render the card and leave both tables byte-for-byte unchanged', async () => {
    const { requestId } = await startReview(refund());
    const link = await linkFor('lead@example.com', requestId);
    const before = await tablesSnapshot();

    const page = await http('GET', link);
    expect(page.status).toBe(200);
    expect(page.body).toContain('O-9421');
    expect(page.body).toContain('name="choice"');
    expect(page.headers).toMatchObject({
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-security-policy': expect.stringContaining("frame-ancestors 'none'"),
    });
    const head = await http('HEAD', link);
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    await http('GET', await linkFor('lead2@example.com', requestId));

    expect(await tablesSnapshot()).toEqual(before);
    expect(sendTaskCalls()).toHaveLength(0);
  });

  it('POST approve decides, logs and resumes the execution exactly once with the Decision', async () => {
    const { requestId, taskToken } = await startReview(refund());
    const link = await linkFor('lead@example.com', requestId);
    const round = (await http('GET', link)).body.match(/name="round" value="(\d+)"/)?.[1];
    expect(round).toBe('1');

    const res = await post(link, { choice: 'approve', round: '1', comment: 'photos check out' });
    expect(res.status).toBe(200);
    expect(res.body).toContain('Approved — the agent has been told');

    const stored = await row(requestId);
    expect(stored).toMatchObject({ status: 'DECIDED', decision: { outcome: 'approved', decidedBy: 'lead@example.com', tier: 1, comment: 'photos check out' } });
    expect(stored.resumedAt).toBeDefined();
    expect(stored.taskToken).toBeUndefined();
    expect(stored.pendingGroup).toBeUndefined();

    const decided = (await events(requestId)).filter((e) => e.event === 'decided');
    expect(decided).toHaveLength(1);
    expect(decided[0]).toMatchObject({ actor: 'lead@example.com', agent: 'customer-support-agent', actionType: 'approval#refund', decision: { outcome: 'approved' } });

    const calls = sendTaskCalls(taskToken);
    expect(calls).toHaveLength(1);
    expect(outputOf(calls[0]!)).toMatchObject({ requestId, outcome: 'approved', approvedArgs: { order_id: 'O-9421', amount_usd: 350 } });
    expect(scheduler.commandCalls(DeleteScheduleCommand).map((c) => c.args[0].input.Name)).toEqual([`hitl-${requestId}-r1`]);
  });

  it('accepts a POST without Fetch Metadata when Origin is our own, and refuses a cross-site one', async () => {
    const { requestId, taskToken } = await startReview(refund());
    const link = await linkFor('lead@example.com', requestId);
    const before = await tablesSnapshot();

    expect((await post(link, { choice: 'approve', round: '1' }, { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' })).status).toBe(403);
    expect((await post(link, { choice: 'approve', round: '1' }, { 'sec-fetch-site': 'same-site', origin: 'https://other.example.test' })).status).toBe(403);
    expect((await post(link, { choice: 'approve', round: '1' }, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await post(link, { choice: 'approve', round: '1' }, {})).status).toBe(403);
    expect(await tablesSnapshot()).toEqual(before);

    expect((await post(link, { choice: 'deny', round: '1', reason: 'duplicate claim' }, { origin: BASE_URL })).status).toBe(200);
    expect(outputOf(sendTaskCalls(taskToken)[0]!)).toMatchObject({ outcome: 'denied', reason: 'duplicate claim' });
  });

  it('every response carries the security headers: a page, an unreadable form, an event the adapter refuses, an unknown path, a failure', async () => {
    const { requestId } = await startReview(refund());
    const link = await linkFor('lead@example.com', requestId);
    const responses = {
      page: await http('GET', link),
      unreadableForm: await http('POST', link, { body: 'not multipart', headers: { ...SAME_ORIGIN, 'content-type': 'multipart/form-data; boundary=zzz' } }),
      // A GET with a body cannot become a fetch Request: Hono's adapter answers 400 before the app runs.
      adapterRefusal: await http('GET', link, { body: 'x' }),
      notFound: await http('GET', `${BASE_URL}/nothing/here`),
      failure: await (async () => {
        const down = vi.spyOn(DynamoDBDocumentClient.prototype, 'send').mockRejectedValueOnce(new Error('DynamoDB is down'));
        try {
          return await http('GET', link);
        } finally {
          down.mockRestore();
        }
      })(),
    };
    expect(Object.fromEntries(Object.entries(responses).map(([what, r]) => [what, r.status]))).toEqual({ page: 200, unreadableForm: 400, adapterRefusal: 400, notFound: 404, failure: 500 });
    const expected = Object.fromEntries(Object.entries(respond.SECURITY_HEADERS).map(([name, value]) => [name.toLowerCase(), value]));
    for (const [what, r] of Object.entries(responses)) expect(r.headers, what).toMatchObject(expected);
    expect(responses.unreadableForm.body).toContain('The form could not be read');
    expect(await row(requestId)).toMatchObject({ status: 'PENDING' });
    expect(sendTaskCalls()).toHaveLength(0);
  });

  it('a link has one spelling: a signed field given twice or an expiry with a leading zero is refused', async () => {
    const { requestId } = await startReview(refund());
    const link = await linkFor('lead@example.com', requestId);
    const e = new URL(link).searchParams.get('e')!;
    const respellings = [`${link}&e=${e}`, `${link}&a=lead%40example.com`, link.replace(`e=${e}`, `e=0${e}`), link.replace(`e=${e}`, `e=%2B${e}`)];
    const before = await tablesSnapshot();
    for (const respelled of respellings) {
      expect((await http('GET', respelled)).status, respelled).toBe(403);
      expect((await post(respelled, { choice: 'approve', round: '1' })).status, respelled).toBe(403);
    }
    expect(await tablesSnapshot()).toEqual(before);
    expect((await http('GET', link)).status).toBe(200);
  });

  it('refuses a tampered signature and a link signed for a non-member', async () => {
    const { requestId } = await startReview(refund());
    const link = new URL(await linkFor('lead@example.com', requestId));
    const s = link.searchParams.get('s') ?? '';
    link.searchParams.set('s', `${s.startsWith('A') ? 'B' : 'A'}${s.slice(1)}`);
    const before = await tablesSnapshot();

    expect((await http('GET', link.toString())).status).toBe(403);
    expect((await post(link.toString(), { choice: 'approve', round: '1' })).status).toBe(403);
    const forged = new URL(await linkFor('lead@example.com', requestId));
    forged.searchParams.set('a', 'lead2@example.com');
    expect((await post(forged.toString(), { choice: 'approve', round: '1' })).status).toBe(403);

    const stranger = signedLink(requestId, 'stranger@example.com');
    expect((await http('GET', stranger)).status).toBe(403);
    const res = await post(stranger, { choice: 'approve', round: '1' });
    expect(res.status).toBe(403);
    expect(res.body).toContain('not a reviewer');
    expect(await tablesSnapshot()).toEqual(before);
    expect(sendTaskCalls()).toHaveLength(0);
  });

  it('shows an expired link the status page and refuses to decide with it', async () => {
    const { requestId } = await startReview(refund());
    const expired = signedLink(requestId, 'lead@example.com', Math.floor(Date.now() / 1000) - 60);
    const page = await http('GET', expired);
    expect(page.status).toBe(200);
    expect(page.body).toContain('expired');
    expect(page.body).not.toContain('name="choice"');
    const res = await post(expired, { choice: 'approve', round: '1' });
    expect(res.status).toBe(410);
    expect((await row(requestId)).status).toBe('PENDING');
  });

  it('answers bad forms with 400 naming the field, and changes nothing', async () => {
    const { requestId } = await startReview(refund());
    const link = await linkFor('lead@example.com', requestId);
    const before = await tablesSnapshot();

    const noReason = await post(link, { choice: 'deny', round: '1', reason: '' });
    expect(noReason.status).toBe(400);
    expect(noReason.body).toContain('reason');

    const wrongType = await post(link, { choice: 'modify', round: '1', 'arg.order_id': 'O-9421', 'arg.amount_usd': 'three hundred', 'arg.notify_customer': 'true' });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body).toContain('args.amount_usd');

    const extra = await post(link, { choice: 'modify', round: '1', 'arg.order_id': 'O-9421', 'arg.amount_usd': '1', 'arg.notify_customer': 'yes', 'arg.bonus': '5' });
    expect(extra.status).toBe(400);
    expect(extra.body).toContain('args.notify_customer');
    expect(extra.body).toContain('args.bonus');

    const wrongChoice = await post(link, { choice: 'answer', round: '1', option: 'o-1' });
    expect(wrongChoice.status).toBe(400);
    expect(wrongChoice.body).toContain('choice');

    expect(await tablesSnapshot()).toEqual(before);
    expect(sendTaskCalls()).toHaveLength(0);
  });

  it('modify records both the proposed and the approved arguments', async () => {
    const { requestId, taskToken } = await startReview(refund());
    const link = await linkFor('lead2@example.com', requestId);
    const res = await post(link, { choice: 'modify', round: '1', 'arg.order_id': 'O-9421', 'arg.amount_usd': ' 300 ', 'arg.notify_customer': 'false', comment: 'partial refund' });
    expect(res.status).toBe(200);
    const decision = outputOf(sendTaskCalls(taskToken)[0]!);
    expect(decision).toMatchObject({
      outcome: 'modified',
      decidedBy: 'lead2@example.com',
      proposedArgs: { order_id: 'O-9421', amount_usd: 350, notify_customer: true },
      approvedArgs: { order_id: 'O-9421', amount_usd: 300, notify_customer: false },
    });
    expect((await row(requestId)).decision).toEqual(decision);
  });

  it('escalate emails the next tier; the first tier then sees "escalated to …" and cannot decide', async () => {
    const { requestId, taskToken } = await startReview(refund());
    const leadLink = await linkFor('lead@example.com', requestId);
    const res = await post(leadLink, { choice: 'escalate', round: '1', comment: 'over my limit' });
    expect(res.status).toBe(200);
    expect(res.body).toContain('Escalated to support managers');

    const stored = await row(requestId);
    expect(stored).toMatchObject({ status: 'PENDING', tier: 2, round: 2, notifiedTier: 2, notifiedRound: 2 });
    expect(await emailsTo('manager@example.com', requestId)).toHaveLength(1);
    expect(scheduler.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input.Name)).toContain(`hitl-${requestId}-r2`);
    expect(scheduler.commandCalls(DeleteScheduleCommand).map((c) => c.args[0].input.Name)).toContain(`hitl-${requestId}-r1`);
    expect((await events(requestId)).map((e) => e.event)).toEqual(['created', 'notified', 'escalated', 'notified']);

    const tier1View = await http('GET', await linkFor('lead2@example.com', requestId));
    expect(tier1View.body).toMatch(/[Ee]scalated to support managers/);
    expect(tier1View.body).not.toContain('name="choice"');
    const before = await tablesSnapshot();
    const late = await post(leadLink, { choice: 'approve', round: '2' });
    expect(late.status).toBe(403);
    const stale = await post(await linkFor('lead2@example.com', requestId), { choice: 'deny', round: '1', reason: 'no' });
    expect(stale.status).toBe(403);
    expect(await tablesSnapshot()).toEqual(before);

    const managerLink = await linkFor('manager@example.com', requestId);
    const managerPage = await http('GET', managerLink);
    expect(managerPage.body).toContain('name="round" value="2"');
    expect((await post(managerLink, { choice: 'approve', round: '1' })).status).toBe(409);
    expect((await post(managerLink, { choice: 'approve', round: '2' })).status).toBe(200);
    const decision = outputOf(sendTaskCalls(taskToken)[0]!);
    expect(decision).toMatchObject({ outcome: 'approved', decidedBy: 'manager@example.com', tier: 2 });
    expect(sendTaskCalls(taskToken)).toHaveLength(1);
  });

  it('escalate asks why: a blank reason comes back with the section open and nothing changed; the reason is logged and shown to the next tier; everyone asked hears the outcome', async () => {
    const { requestId } = await startReview(refund());
    const leadLink = await linkFor('lead@example.com', requestId);
    const before = await tablesSnapshot();
    const blank = await post(leadLink, { choice: 'escalate', round: '1', reason: '   ' });
    expect(blank.status).toBe(400);
    expect(blank.body).toContain('Nothing was sent. Please fix: reason: say why');
    expect(blank.body).toMatch(/<details open><summary>Escalate to support managers…<\/summary>/);
    expect(await tablesSnapshot()).toEqual(before);

    expect((await post(leadLink, { choice: 'escalate', round: '1', reason: 'over my limit' })).status).toBe(200);
    expect((await events(requestId)).find((e) => e.event === 'escalated')).toMatchObject({
      actor: 'lead@example.com',
      details: { reason: 'over my limit', why: 'escalated by lead@example.com: over my limit' },
    });
    const [managerMail] = await emailsTo('manager@example.com', requestId);
    expect(managerMail!.text).toContain('escalated by lead@example.com: over my limit');

    expect((await post(await linkFor('manager@example.com', requestId), { choice: 'approve', round: '2' })).status).toBe(200);
    const notices = async () => (await ses.emails()).filter((e) => e.subject.startsWith('Approved by manager@example.com') && e.text?.includes(requestId));
    // The page does not wait for them: the decision event runs the conclude function (here no bus; called as the rule would).
    expect(await notices()).toEqual([]);
    expect(await conclude.handler({ source: 'hitl', 'detail-type': 'hitl.decision', detail: { requestId } })).toMatchObject({ concluded: true });
    expect((await notices()).map((e) => e.to).sort()).toEqual([['lead2@example.com'], ['lead@example.com']]);
  });

  it('50 concurrent POSTs mixing approve and deny: one decision, one log event, one SendTaskSuccess', async () => {
    const { requestId, taskToken } = await startReview(refund());
    const links = [await linkFor('lead@example.com', requestId), await linkFor('lead2@example.com', requestId)];
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        post(links[i % 2]!, i % 3 === 0 ? { choice: 'deny', round: '1', reason: `no (${i})` } : { choice: 'approve', round: '1' }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(49);

    const stored = await row(requestId);
    expect(stored.status).toBe('DECIDED');
    const decidedEvents = (await events(requestId)).filter((e) => e.event === 'decided');
    expect(decidedEvents).toHaveLength(1);
    expect(sendTaskCalls()).toHaveLength(1);
    expect(outputOf(sendTaskCalls(taskToken)[0]!)).toEqual(stored.decision);
    expect(decidedEvents[0]?.decision).toEqual(stored.decision);
  });

  it('a replayed POST gets a page naming who decided, and no second SendTaskSuccess', async () => {
    const { requestId } = await startReview(refund());
    const link = await linkFor('lead@example.com', requestId);
    expect((await post(link, { choice: 'deny', round: '1', reason: 'customer already refunded' })).status).toBe(200);
    const before = await tablesSnapshot();

    const replay = await post(link, { choice: 'deny', round: '1', reason: 'customer already refunded' });
    expect(replay.status).toBe(409);
    expect(replay.body).toContain('lead@example.com');
    const late = await post(await linkFor('lead2@example.com', requestId), { choice: 'approve', round: '1' });
    expect(late.status).toBe(409);
    expect(late.body).toContain('Denied by lead@example.com');
    expect(sendTaskCalls()).toHaveLength(1);
    expect(await tablesSnapshot()).toEqual(before);
  });

  it('keeps a decision whose resume failed, and resumes it on the next POST', async () => {
    const { requestId, taskToken } = await startReview(refund());
    sendTaskFailures.set(taskToken, [Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })]);
    const link = await linkFor('lead@example.com', requestId);

    const first = await post(link, { choice: 'approve', round: '1' });
    expect(first.status).toBe(503);
    const stuck = await row(requestId);
    expect(stuck).toMatchObject({ status: 'DECIDED', taskToken });
    expect(stuck.resumedAt).toBeUndefined();

    const retry = await post(link, { choice: 'approve', round: '1' });
    expect(retry.status).toBe(409);
    expect(sendTaskCalls(taskToken)).toHaveLength(2);
    expect((await row(requestId)).resumedAt).toBeDefined();
    expect((await events(requestId)).filter((e) => e.event === 'decided')).toHaveLength(1);
    expect((await post(link, { choice: 'approve', round: '1' })).status).toBe(409);
    expect(sendTaskCalls(taskToken)).toHaveLength(2);
  });

  it('treats a timed-out execution as resumed', async () => {
    const { requestId, taskToken } = await startReview(refund());
    sendTaskFailures.set(taskToken, [new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} })]);
    expect((await post(await linkFor('lead@example.com', requestId), { choice: 'approve', round: '1' })).status).toBe(200);
    const stored = await row(requestId);
    expect(stored.resumedAt).toBeDefined();
    expect(stored.taskToken).toBeUndefined();
    expect((await events(requestId)).at(-1)).toMatchObject({ event: 'resumed', details: { result: 'execution-ended' } });
  });

  it('a replayed review task for a decided request resumes with the stored decision at once', async () => {
    const { requestId, routed, executionArn: arn } = await startReview(refund());
    await post(await linkFor('lead@example.com', requestId), { choice: 'approve', round: '1' });
    const mails = (await ses.emails()).length;
    const token = newToken();
    const result = await request.handler({ requestId, request: routed.route === 'review' ? routed.request : null, taskToken: token, executionArn: arn });
    expect(result).toEqual({ requestId, status: 'resumed' });
    expect(outputOf(sendTaskCalls(token)[0]!)).toEqual((await row(requestId)).decision);
    expect((await ses.emails()).length).toBe(mails);
  });

  it('the same idempotency key after a decision returns the same decision from route', async () => {
    const input = refund({ idempotencyKey: `refund-${randomUUID()}` });
    const { requestId } = await startReview(input);
    await post(await linkFor('lead2@example.com', requestId), { choice: 'deny', round: '1', reason: 'not eligible' });
    const again = await routeIt(input);
    expect(again).toMatchObject({ route: 'decided', requestId, decision: { outcome: 'denied', reason: 'not eligible', decidedBy: 'lead2@example.com' } });
  });

  describe('the other kinds', () => {
    const common = { agent: 'ops-agent', reason: 'needs a person', risk: { class: 'customer-facing', reversible: false }, reviewerGroup: 'solo' } as const;

    async function decide(input: ReviewRequestInput, form: Record<string, string>) {
      const { requestId, taskToken } = await startReview(input);
      const res = await post(await linkFor('solo@example.com', requestId), { round: '1', ...form });
      const calls = sendTaskCalls(taskToken);
      expect(calls).toHaveLength(res.status === 200 ? 1 : 0);
      return { res, requestId, decision: calls[0] ? outputOf(calls[0]) : undefined };
    }

    it('disambiguation: answer with an option (and only a real one)', async () => {
      const input: ReviewRequestInput = { ...common, kind: 'disambiguation', confidence: 0.2, question: 'Which account?', options: [{ id: 'acct-1', label: 'Personal' }, { id: 'acct-2', label: 'Business' }] };
      const wrong = await decide(input, { choice: 'answer', option: 'acct-9' });
      expect(wrong.res.status).toBe(400);
      expect(wrong.res.body).toContain('option');
      const ok = await decide(input, { choice: 'answer', option: 'acct-2' });
      expect(ok.decision).toMatchObject({ kind: 'disambiguation', outcome: 'answered', chosenOption: { id: 'acct-2', label: 'Business' } });
    });

    it('verification: modify the draft', async () => {
      const { decision } = await decide(
        { ...common, kind: 'verification', draft: { channel: 'email', title: 'Your refund', body: 'We refunded you.' } },
        { choice: 'modify', draftBody: 'We have refunded $350 to your card.' },
      );
      expect(decision).toMatchObject({ outcome: 'modified', editedDraft: { channel: 'email', title: 'Your refund', body: 'We have refunded $350 to your card.' } });
    });

    it('escalation: resolve with what was done', async () => {
      const { decision } = await decide({ ...common, kind: 'escalation', task: { summary: 'Customer is upset about a lost parcel' } }, { choice: 'resolve', result: 'Called the customer; resent the parcel' });
      expect(decision).toMatchObject({ kind: 'escalation', outcome: 'resolved', result: 'Called the customer; resent the parcel' });
    });

    it('correction: correct the output, logged as a correction', async () => {
      const { decision, requestId } = await decide(
        { ...common, kind: 'correction', output: { id: 'msg-1', content: 'Your order ships in 2 days.' }, issue: 'It ships in 5 days' },
        { choice: 'correct', correctedOutput: 'Your order ships in 5 days.', category: 'factual' },
      );
      expect(decision).toMatchObject({ outcome: 'corrected', correctedOutput: 'Your order ships in 5 days.', correctionCategory: 'factual' });
      expect((await events(requestId)).filter((e) => e.event === 'corrected')).toHaveLength(1);
    });

    it('every kind can be denied with a reason', async () => {
      const { decision } = await decide({ ...common, kind: 'escalation', task: { summary: 'Close the account' } }, { choice: 'deny', reason: 'not ours to handle' });
      expect(decision).toMatchObject({ outcome: 'denied', reason: 'not ours to handle' });
    });
  });
});

// ---------------------------------------------------------------- secrets

describe('task tokens', () => {
  it('never appear in an email, a link or a log line', async () => {
    const { requestId, taskToken } = await startReview(refund());
    const page = await http('GET', await linkFor('lead@example.com', requestId));
    expect(page.body).not.toContain(taskToken);

    expect(issuedTokens.length).toBeGreaterThan(0);
    const mails = await ses.emails();
    expect(mails.length).toBeGreaterThan(0);
    const links = mails.flatMap((m) => [...`${m.text ?? ''} ${m.html ?? ''}`.matchAll(new RegExp(LINK, 'g'))].map((x) => x[0]));
    expect(links.length).toBeGreaterThanOrEqual(mails.length);
    const logs = captured.join('\n');
    expect(logs).toContain('Reviewers notified');
    expect(logs).toMatch(/"DecisionLatencyMs":\d+/);
    for (const token of issuedTokens) {
      for (const mail of mails) expect(`${mail.subject}\n${mail.text}\n${mail.html}`).not.toContain(token);
      for (const link of links) expect(link).not.toContain(token);
      expect(logs).not.toContain(token);
    }
  });
});
