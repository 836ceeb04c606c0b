/**
 * The web inbox on the whole local stack, over HTTP with cookies: sign-in by the link found in the local SES
 * mail, the pending list in deadline order, bulk approval of low-risk reversible items (and the refusal of an
 * irreversible one, offered or forged), trust rules that approve a matching request until revoked, and forged
 * or reused sign-in links.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGN_IN_SUBJECT } from '#shared/inbox/sign-in.ts';
import type { DeploymentConfigInput } from '#shared/schemas/config.ts';
import type { ReviewRequestInput } from '#shared/schemas/review-request.ts';
import type { StoredEmail } from '#local/ses.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';
import { POLICY_CONFIG } from '../support/policy-config.ts';
import { stackReads } from '../support/stack-reads.ts';

/** The shared policy plus store credits: financial but reversible, so a reviewer may trust them. */
const CONFIG = {
  ...POLICY_CONFIG,
  policy: {
    ...POLICY_CONFIG.policy,
    rules: [
      { name: 'credits', match: { kind: 'approval', action: 'credit' }, risk: { class: 'financial', reversible: true }, reviewerGroup: 'support' },
      ...POLICY_CONFIG.policy.rules,
    ],
  },
} satisfies DeploymentConfigInput;

let stack: TestStack;
const { row, events, start, pending, outcome } = stackReads(() => stack);
let n = 0;

beforeAll(async () => {
  stack = await startTestStack({ context: { hitl: CONFIG } });
}, 180_000);
afterAll(async () => stack?.stop());

const inbox = (path = '') => `${stack.endpoints.respond}/inbox${path}`;

function crm(ttlSeconds: number): ReviewRequestInput {
  return {
    kind: 'approval',
    agent: 'crm-bot',
    action: { name: 'crm.update_contact', args: { id: `C-${++n}` } },
    reason: 'customer changed their phone number',
    risk: { class: 'internal', reversible: true },
    confidence: 0.5,
    ttlSeconds,
  } as ReviewRequestInput;
}

function refund(ttlSeconds: number): ReviewRequestInput {
  return {
    kind: 'approval',
    agent: 'billing-bot',
    action: { name: 'refund', args: { order_id: `O-${++n}`, amount_usd: 20 } },
    reason: 'customer asked for their money back',
    risk: { class: 'financial', reversible: false },
    ttlSeconds,
  } as ReviewRequestInput;
}

function credit(amount: number, over: Record<string, unknown> = {}): ReviewRequestInput {
  return {
    kind: 'approval',
    agent: 'billing-bot',
    action: { name: 'credit', args: { account: `A-${++n}`, amount_usd: amount } },
    reason: 'goodwill credit for a late delivery',
    risk: { class: 'financial', reversible: true },
    ttlSeconds: 600,
    ...over,
  } as ReviewRequestInput;
}

/** A form POST as the browser sends it from one of the inbox's pages. */
function post(url: string, fields: Record<string, string | string[]>, cookie?: string, headers: Record<string, string> = { 'sec-fetch-site': 'same-origin' }) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(url).origin, ...headers, ...(cookie ? { cookie } : {}) },
    body: body.toString(),
    redirect: 'manual',
  });
}

const get = (url: string, cookie?: string) => fetch(url, { headers: cookie ? { cookie } : {}, redirect: 'manual' });

function isSignInMail(email: StoredEmail, to: string): boolean {
  return email.subject === SIGN_IN_SUBJECT && email.destination.to.length === 1 && email.destination.to[0] === to;
}

async function signInLinks(to: string, count: number): Promise<string[]> {
  const mails = await stack.waitForEmails((e) => isSignInMail(e, to), count);
  const prefix = inbox('/sign-in?t=');
  return mails.map((m) => [...(m.body.text ?? '').matchAll(/https?:\/\/\S+/g)].map((x) => x[0]).find((u) => u.startsWith(prefix))!);
}

async function askForLink(address: string): Promise<string> {
  const res = await post(inbox('/link'), { email: address });
  expect(res.status).toBe(200);
  return res.text();
}

const sessions: Record<string, string> = {};

/** Sign in through the emailed link (once per address: links are emailed at most every 30 s); the session cookie as a Cookie header. */
async function signIn(address: string): Promise<string> {
  sessions[address] ??= await newSession(address);
  return sessions[address];
}

async function newSession(address: string): Promise<string> {
  const before = (await stack.emails()).filter((e) => isSignInMail(e, address)).length;
  await askForLink(address);
  const link = (await signInLinks(address, before + 1)).at(-1)!;
  const token = new URL(link).searchParams.get('t')!;
  expect((await get(link)).status).toBe(200);
  const res = await post(inbox('/sign-in'), { t: token });
  expect(res.status).toBe(303);
  const [cookie] = res.headers.getSetCookie();
  return cookie!.split(';')[0]!;
}

const formTokenOf = (page: string) => /name="csrf" value="([^"]+)"/.exec(page)![1]!;
const listedIds = (page: string) => [...page.matchAll(/<tr data-request-id="([^"]+)"/g)].map((m) => m[1]!);

describe('sign-in by an emailed link', () => {
  it('answers a member and a stranger alike; only the member is emailed, and the link signs in once with a strict session cookie', async () => {
    const signInPage = await (await get(inbox())).text();
    expect(signInPage).toContain('Email me a sign-in link');

    const member = await askForLink('lead2@example.com');
    const stranger = await askForLink('stranger@example.com');
    expect(stranger).toBe(member);
    const [link] = await signInLinks('lead2@example.com', 1);
    expect((await stack.emails()).filter((e) => e.destination.to.includes('stranger@example.com'))).toEqual([]);

    const token = new URL(link!).searchParams.get('t')!;
    const confirm = await get(link!);
    expect(confirm.status).toBe(200);
    expect(await confirm.text()).toContain('Sign in as lead2@example.com');

    const first = await post(inbox('/sign-in'), { t: token });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/inbox');
    const [cookie] = first.headers.getSetCookie();
    expect(cookie).toMatch(/^hitl_inbox=[^;]+;/);
    for (const attribute of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/inbox', `Max-Age=${8 * 3600}`]) expect(cookie).toContain(attribute);
    sessions['lead2@example.com'] = cookie!.split(';')[0]!;
    const page = await (await get(inbox(), sessions['lead2@example.com'])).text();
    expect(page).toContain('Review inbox · lead2@example.com');

    // Asking again at once: the same answer, and no second email (one per address every 30 s).
    expect(await askForLink('lead2@example.com')).toBe(member);
    expect((await stack.emails()).filter((e) => isSignInMail(e, 'lead2@example.com'))).toHaveLength(1);

    const reused = await post(inbox('/sign-in'), { t: token });
    expect(reused.status).toBe(410);
    expect(await reused.text()).toContain('This sign-in link was already used');
    expect(reused.headers.getSetCookie()).toEqual([]);
    expect((await get(link!)).status).toBe(410);
  });

  it('refuses a forged link (401) and a forged session cookie, with a clear page', async () => {
    const [link] = await signInLinks('lead2@example.com', 1);
    const token = new URL(link!).searchParams.get('t')!;
    const [payload, keyId] = token.split('.');
    // Someone else's address in the payload, the old signature: the signature no longer verifies.
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), a: 'manager@example.com' })).toString('base64url');
    const forged = `${forgedPayload}.${keyId}.${token.split('.')[2]}`;
    const viaGet = await get(`${inbox('/sign-in')}?t=${encodeURIComponent(forged)}`);
    expect(viaGet.status).toBe(401);
    expect(await viaGet.text()).toContain('This sign-in link is not valid');
    const viaPost = await post(inbox('/sign-in'), { t: forged });
    expect(viaPost.status).toBe(401);
    expect(viaPost.headers.getSetCookie()).toEqual([]);

    // A session token is not a sign-in token (and a sign-in token is not a session).
    expect(await (await get(inbox(), `hitl_inbox=${token}`)).text()).toContain('Email me a sign-in link');
    expect((await post(inbox('/approve'), { csrf: 'x'.repeat(43) }, `hitl_inbox=${forged}`)).status).toBe(401);
  });
});

describe('the inbox', () => {
  let cookie: string;
  const ids: Record<string, { executionArn: string; requestId: string }> = {};

  beforeAll(async () => {
    ids.late = await start(crm(900));
    ids.soon = await start(refund(300));
    ids.middle = await start(crm(600));
    for (const r of Object.values(ids)) await pending(r.requestId);
    cookie = await signIn('lead@example.com');
  }, 120_000);

  it('lists the reviewer\'s pending requests soonest deadline first, with each group\'s queue and wait; only low-risk reversible ones are offered for bulk approval', async () => {
    const page = await (await get(inbox(), cookie)).text();
    const mine = listedIds(page).filter((id) => Object.values(ids).some((r) => r.requestId === id));
    expect(mine).toEqual([ids.soon!.requestId, ids.middle!.requestId, ids.late!.requestId]);
    expect(page).toMatch(/<tr data-group="support"><td>support<\/td><td>\d+ pending<\/td>/);
    expect(page).toContain(`value="${ids.middle!.requestId}@1"`);
    expect(page).toContain(`value="${ids.late!.requestId}@1"`);
    expect(page).not.toContain(`value="${ids.soon!.requestId}@1"`);
    // Each item links to a freshly signed review card for this reviewer.
    const card = /<tr data-request-id="[^"]+">\s*<td>[^]*?<a href="([^"]+)"/.exec(page.slice(page.indexOf(`data-request-id="${ids.soon!.requestId}"`) - 20))![1]!.replaceAll('&amp;', '&');
    expect(new URL(card).pathname).toBe(`/r/${ids.soon!.requestId}`);
    expect(new URL(card).searchParams.get('a')).toBe('lead@example.com');
    expect((await get(card)).status).toBe(200);
  });

  it('refuses a forged bulk approval of the irreversible refund, and a post without the form token; nothing is decided', async () => {
    const page = await (await get(inbox(), cookie)).text();
    const csrf = formTokenOf(page);
    const forged = await post(inbox('/approve'), { csrf, item: [`${ids.middle!.requestId}@1`, `${ids.soon!.requestId}@1`] }, cookie);
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain(`Request ${ids.soon!.requestId} cannot be bulk-approved: the action is not reversible. Nothing was approved`);
    expect((await post(inbox('/approve'), { item: `${ids.middle!.requestId}@1` }, cookie)).status).toBe(403);
    expect((await post(inbox('/approve'), { csrf, item: `${ids.middle!.requestId}@1` }, cookie, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    for (const key of ['soon', 'middle']) expect((await row(ids[key]!.requestId))!.status).toBe('PENDING');
  });

  it('bulk-approves two low-risk items through the review path: both executions resume approved, channel inbox', async () => {
    const csrf = formTokenOf(await (await get(inbox(), cookie)).text());
    const res = await post(inbox('/approve'), { csrf, item: [`${ids.middle!.requestId}@1`, `${ids.late!.requestId}@1`] }, cookie);
    expect(res.status).toBe(200);
    const page = await res.text();
    for (const key of ['middle', 'late']) {
      expect(page).toContain(`<li data-result="${ids[key]!.requestId}" data-approved="yes">`);
      const done = await outcome(ids[key]!.executionArn);
      expect(done.decision).toMatchObject({ outcome: 'approved', decidedBy: 'lead@example.com', channel: 'inbox' });
      expect((await events(ids[key]!.requestId)).filter((e) => e.event === 'decided')).toHaveLength(1);
    }
    // The same form again decides nothing twice.
    const again = await post(inbox('/approve'), { csrf, item: `${ids.middle!.requestId}@1` }, cookie);
    expect(await again.text()).toContain('data-approved="no"');
    expect((await events(ids.middle!.requestId)).filter((e) => e.event === 'decided')).toHaveLength(1);
    expect((await row(ids.soon!.requestId))!.status).toBe('PENDING');
  });
});

describe('trust rules', () => {
  let cookie: string;
  let csrf: string;

  beforeAll(async () => {
    cookie = await signIn('lead@example.com');
    csrf = formTokenOf(await (await get(inbox(), cookie)).text());
  }, 120_000);

  const trust = (fields: Record<string, string>) => post(inbox('/trust'), { csrf, group: 'support', hours: '2', ...fields }, cookie);

  it('refuses a rule for an irreversible action, an unreadable bound, and a group the reviewer is not in', async () => {
    const irreversible = await trust({ agent: 'billing-bot', action: 'refund', bounds: 'amount_usd <= 50' });
    expect(irreversible.status).toBe(400);
    expect(await irreversible.text()).toContain('No trust rule was created: policy rule refunds treats refund as financial · irreversible');
    const unreadable = await trust({ agent: 'billing-bot', action: 'credit', bounds: 'amount_usd about 50' });
    expect(unreadable.status).toBe(400);
    expect(await unreadable.text()).toContain('bounds: &quot;amount_usd about 50&quot;: write &lt;argument&gt; &lt;op&gt; &lt;value&gt;');
    const elsewhere = await trust({ group: 'editors', agent: 'billing-bot', action: 'credit', bounds: 'amount_usd <= 50' });
    expect(elsewhere.status).toBe(403);
  });

  it('a rule approves a matching request by the stated policy, naming the rule and its creator; outside its bounds, claimed irreversible, or once revoked, a person is asked', async () => {
    const created = await trust({ agent: 'billing-bot', action: 'credit', bounds: 'amount_usd <= 50', note: 'late deliveries this week' });
    expect(created.status).toBe(200);
    const page = await created.text();
    const ruleId = /Trust rule (tr-[a-f0-9]{12}) created/.exec(page)![1]!;
    expect(page).toContain(`data-trust-rule="${ruleId}"`);
    const createdEvents = await events(`trust-rule#${ruleId}`);
    expect(createdEvents).toMatchObject([{ event: 'trust-rule-created', actor: 'lead@example.com', details: { group: 'support', agent: 'billing-bot', action: 'credit', bounds: [{ arg: 'amount_usd', op: '<=', value: 50 }] } }]);

    // Another member of the group sees it.
    const other = await signIn('lead2@example.com');
    expect(await (await get(inbox(), other)).text()).toContain(`data-trust-rule="${ruleId}"`);

    const small = await start(credit(20));
    const done = await outcome(small.executionArn);
    expect(done.decision).toMatchObject({
      outcome: 'approved',
      decidedBy: `policy:trust-rule:${ruleId}:lead@example.com`,
      channel: 'policy',
      policy: { name: 'trust-rule', rule: 'credits', why: expect.stringContaining(`trust rule ${ruleId} by lead@example.com`) },
    });
    expect(await stack.reviewEmails(small.requestId)).toEqual([]);

    const large = await start(credit(80));
    expect((await pending(large.requestId)).status).toBe('PENDING');
    const claimedIrreversible = await start(credit(20, { risk: { class: 'financial', reversible: false } }));
    expect((await pending(claimedIrreversible.requestId)).policy).toMatchObject({ risk: { reversible: false } });

    const revoked = await post(inbox('/trust/revoke'), { csrf: formTokenOf(await (await get(inbox(), other)).text()), group: 'support', id: ruleId }, other);
    expect(revoked.status).toBe(200);
    expect(await events(`trust-rule#${ruleId}`)).toMatchObject([{ event: 'trust-rule-created' }, { event: 'trust-rule-revoked', actor: 'lead2@example.com' }]);
    const after = await start(credit(20));
    expect((await pending(after.requestId)).status).toBe('PENDING');
    await stack.waitForReviewEmails(after.requestId, { to: 'lead@example.com' });
  });
});
