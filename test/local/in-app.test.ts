/**
 * In-app answers on the local stack: a request names a respondent; the in-app API, behind the emulated JWT
 * authorizer, lists it for that user only and takes their answer through the same finalizeDecision path.
 */
import { readFileSync } from 'node:fs';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '#local/cli.ts';
import { ManualClock } from '#local/clock.ts';
import { ensureIssuerKeys, mintToken } from '#local/in-app-issuer.ts';
import type { ReviewRequestInput } from '#shared/schemas/review-request.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';

const IN_APP = { issuer: 'https://auth.example.test/', audience: ['host-app'] };
const shipped = (JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: { hitl: Record<string, unknown> } }).context.hitl;

describe('local stack: in-app answers', () => {
  const clock = new ManualClock();
  let stack: TestStack;
  let api: string;
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    stack = await startTestStack({ clock, context: { hitl: { ...shipped, inApp: IN_APP } } });
    api = stack.endpoints.respond;
    const keys = await ensureIssuerKeys(stack.stateDir);
    for (const user of ['alice', 'bob']) tokens[user] = await mintToken(keys, { ...IN_APP, sub: user });
  }, 240_000);

  afterAll(async () => {
    await stack?.stop();
  });

  // The shipped policy's crm-edits rule names no reviewer group: the respondent answers it.
  const crmEdit = (contactId: string, respondent: string, fallback: 'deny' | 'approve' = 'deny'): ReviewRequestInput => ({
    kind: 'approval',
    agent: 'crm-agent',
    action: { name: 'crm.update_contact', args: { contact_id: contactId, phone: '+44 20 7946 0000', priority: 3 } },
    reason: 'the customer asked to change their phone number',
    risk: { class: 'internal', reversible: true },
    respondent: { id: respondent },
    ttlSeconds: 300,
    fallback,
  });

  async function start(input: ReviewRequestInput) {
    const { executionArn } = await stack.clients.sfn.send(new StartExecutionCommand({ stateMachineArn: stack.stateMachineArn, input: JSON.stringify(input) }));
    return { executionArn: executionArn!, requestId: stack.requestIdOf(executionArn!, input) };
  }

  const call = (path: string, token: string | undefined, init: RequestInit = {}) =>
    fetch(`${api}${path}`, { ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.body ? { 'content-type': 'application/json' } : {}) } });
  const answer = (requestId: string, token: string | undefined, body: unknown) => call(`/v1/requests/${requestId}/response`, token, { method: 'POST', body: JSON.stringify(body) });
  const pendingIds = async (user: string, token = tokens[user]) => {
    const res = await call(`/v1/respondents/${user}/pending`, token);
    expect(res.status).toBe(200);
    return ((await res.json()) as { requests: { requestId: string }[] }).requests.map((r) => r.requestId);
  };
  async function waitListed(user: string, requestId: string): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!(await pendingIds(user)).includes(requestId)) {
      if (Date.now() > deadline) throw new Error(`${requestId} never listed for ${user}: ${JSON.stringify(await row(requestId))}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const row = async (requestId: string) =>
    (await stack.clients.doc.send(new GetCommand({ TableName: stack.tables.requests, Key: { requestId }, ConsistentRead: true }))).Item as Record<string, unknown>;

  it('lists a request for its respondent only; another user cannot read or answer it, and nothing is decided', async () => {
    const { executionArn, requestId } = await start(crmEdit('C-1', 'alice'));
    await waitListed('alice', requestId);
    expect(await pendingIds('bob')).not.toContain(requestId);
    // bob may not list alice's requests with his own token either.
    expect((await call('/v1/respondents/alice/pending', tokens.bob)).status).toBe(403);
    expect((await call(`/v1/requests/${requestId}`, tokens.bob)).status).toBe(403);
    const refused = await answer(requestId, tokens.bob, { choice: 'approve' });
    expect(refused.status).toBe(403);
    expect(await row(requestId)).toMatchObject({ status: 'PENDING', pendingRespondent: 'alice' });
    // Nobody is emailed about an in-app request.
    expect(await stack.reviewEmails(requestId)).toEqual([]);

    const view = await call(`/v1/requests/${requestId}`, tokens.alice);
    expect(view.status).toBe(200);
    const card = (await view.json()) as { status: string; choices: string[]; card: { heading: string; args: { name: string }[] }; html: string };
    expect(card).toMatchObject({ status: 'PENDING', choices: ['approve', 'deny', 'modify'], card: { heading: 'Approval needed' } });
    expect(card.card.args.map((a) => a.name)).toEqual(['"contact_id"', '"phone"', '"priority"']);
    expect(card.html).toMatch(/^<article class="card"/);

    const ok = await answer(requestId, tokens.alice, { choice: 'modify', args: { contact_id: 'C-1', phone: '+44 20 7946 0001', priority: 3 }, comment: 'last digit' });
    expect(ok.status).toBe(200);
    const done = await stack.waitForExecution(executionArn);
    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toMatchObject({ outcome: 'modified', decidedBy: 'alice', channel: 'in-app', approvedArgs: { phone: '+44 20 7946 0001', priority: 3 } });
    const stored = await row(requestId);
    expect(stored).toMatchObject({ status: 'DECIDED' });
    expect(stored).not.toHaveProperty('pendingRespondent');
    expect(await pendingIds('alice')).not.toContain(requestId);

    const again = await answer(requestId, tokens.alice, { choice: 'deny', reason: 'changed my mind' });
    expect(again.status).toBe(409);
    expect(((await row(requestId)).decision as { outcome: string }).outcome).toBe('modified');
  });

  it('refuses a missing, badly signed, wrongly addressed or expired token with 401 before the function runs', async () => {
    const { requestId } = await start(crmEdit('C-2', 'alice'));
    await waitListed('alice', requestId);
    const keys = await ensureIssuerKeys(stack.stateDir);
    const other = await generateKeyPair('ES256');
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: keys.kid })
      .setIssuer(IN_APP.issuer)
      .setAudience(IN_APP.audience[0]!)
      .setSubject('alice')
      .setExpirationTime('1h')
      .sign(other.privateKey);
    expect((await exportJWK(other.publicKey)).x).not.toBe(keys.publicJwk.x);
    const bad = {
      none: undefined,
      forged,
      audience: await mintToken(keys, { ...IN_APP, sub: 'alice', aud: 'another-app' }),
      issuer: await mintToken(keys, { issuer: 'https://elsewhere.example.test/', audience: IN_APP.audience, sub: 'alice' }),
      expired: await mintToken(keys, { ...IN_APP, sub: 'alice', ttlSeconds: -60 }),
      garbage: 'not-a-jwt',
    };
    for (const [what, token] of Object.entries(bad)) {
      const res = await answer(requestId, token, { choice: 'approve' });
      expect(res.status, what).toBe(401);
      expect(await res.json(), what).toEqual({ message: 'Unauthorized' });
      expect((await call(`/v1/respondents/alice/pending`, token)).status, what).toBe(401);
    }
    expect((await row(requestId)).status).toBe('PENDING');
    expect((await answer(requestId, tokens.alice, { choice: 'deny', reason: 'cleanup' })).status).toBe(200);
  });

  it('answers a bad body with 400 and the zod issue paths, recording nothing', async () => {
    const { executionArn, requestId } = await start(crmEdit('C-3', 'alice'));
    await waitListed('alice', requestId);
    const cases: [unknown, string][] = [
      [{ choice: 'deny' }, 'reason'],
      [{ choice: 'shrug' }, 'choice'],
      [{ choice: 'approve', extra: 1 }, '(root)'],
      [{ choice: 'modify', args: { contact_id: 'C-3', phone: '+44', priority: 'high' } }, 'args.priority'],
      [{ choice: 'modify', args: { contact_id: 'C-3', phone: '+44' } }, 'args.priority'],
      [{ choice: 'answer', option: 'a' }, 'choice'],
    ];
    for (const [body, path] of cases) {
      const res = await answer(requestId, tokens.alice, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const { error } = (await res.json()) as { error: { issues: { path: string }[] } };
      expect(error.issues.map((i) => i.path), JSON.stringify(body)).toContain(path);
    }
    const notJson = await call(`/v1/requests/${requestId}/response`, tokens.alice, { method: 'POST', body: '{' });
    expect(notJson.status).toBe(400);
    expect(await row(requestId)).toMatchObject({ status: 'PENDING', pendingRespondent: 'alice' });
    expect((await answer(requestId, tokens.alice, { choice: 'approve', round: 1 })).status).toBe(200);
    expect(JSON.parse((await stack.waitForExecution(executionArn)).output!)).toMatchObject({ outcome: 'approved', channel: 'in-app' });
  });

  it('still ends in the fallback when the respondent does not answer in time', async () => {
    const { executionArn, requestId } = await start(crmEdit('C-4', 'alice'));
    await waitListed('alice', requestId);
    const view = (await (await call(`/v1/requests/${requestId}`, tokens.alice)).json()) as { expiresAt: string };
    await stack.scheduler.advanceTo(Date.parse(view.expiresAt));
    const done = await stack.waitForExecution(executionArn);
    expect(JSON.parse(done.output!)).toMatchObject({ outcome: 'expired', decidedBy: 'policy:fallback-deny' });
    expect((await row(requestId)).pendingRespondent).toBeUndefined();
    expect(await pendingIds('alice')).not.toContain(requestId);
    expect((await answer(requestId, tokens.alice, { choice: 'approve' })).status).toBe(409);
  });

  it('two answers sent at once: one is recorded with one final event, the other is told who decided', async () => {
    const { executionArn, requestId } = await start(crmEdit('C-5', 'alice'));
    await waitListed('alice', requestId);
    const replies = await Promise.all([answer(requestId, tokens.alice, { choice: 'approve' }), answer(requestId, tokens.alice, { choice: 'deny', reason: 'not now' })]);
    expect(replies.map((r) => r.status).sort()).toEqual([200, 409]);
    const output = JSON.parse((await stack.waitForExecution(executionArn)).output!) as { outcome: string };
    expect(output.outcome).toBe(((await row(requestId)).decision as { outcome: string }).outcome);
    const events = await stack.clients.doc.send(new QueryCommand({ TableName: stack.tables.decisions, KeyConditionExpression: 'requestId = :id', ExpressionAttributeValues: { ':id': requestId }, ConsistentRead: true }));
    expect((events.Items ?? []).filter((e) => e.event === 'decided')).toHaveLength(1);
  });

  it('hitl token mints a token the local authorizer accepts', async () => {
    const out: string[] = [];
    const code = await main(['token', '--user', 'carol', '--state-dir', stack.stateDir], { out: (t) => out.push(t), err: (t) => out.push(t) });
    expect(code).toBe(0);
    const carol = out[0]!.trim();
    expect(await pendingIds('carol', carol)).toEqual([]);
    const started = await main(
      ['request', '--agent', 'crm-agent', '--action', 'crm.update_contact', '--args', '{"contact_id":"C-9"}', '--reason', 'typo in the name', '--risk', 'internal', '--respondent', 'carol', '--state-dir', stack.stateDir],
      { out: (t) => out.push(t), err: (t) => out.push(t) },
    );
    expect(started, out.join('\n')).toBe(0);
    const deadline = Date.now() + 30_000;
    while ((await pendingIds('carol', carol)).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await pendingIds('carol', carol)).toHaveLength(1);
  });

  it('a policy rule that names a group overrides the respondent: emailed to the group, not listed in the app', async () => {
    const input: ReviewRequestInput = {
      kind: 'approval',
      agent: 'support-agent',
      action: { name: 'refund', args: { order_id: 'O-77', amount_usd: 20 } },
      reason: 'duplicate charge',
      risk: { class: 'financial', reversible: false },
      respondent: { id: 'alice' },
      ttlSeconds: 300,
    };
    const { requestId } = await start(input);
    await stack.waitForReviewEmails(requestId, { to: 'lead@example.com' });
    expect(await pendingIds('alice')).not.toContain(requestId);
    expect((await call(`/v1/requests/${requestId}`, tokens.alice)).status).toBe(403);
  });
});
