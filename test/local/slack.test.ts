/**
 * The Slack channel on the whole local stack: the request fn posts the card to the Slack stand-in, a signed
 * click or modal submission decides through the same domain path as the email link, the execution resumes
 * with Decision.channel "slack", and the message is updated in place for everyone (by the conclude function, on
 * the decision event; again harmlessly for a repeated event, never for a forged one). Unsigned, wrongly signed
 * or stale requests are 401 and decide nothing; a Slack user outside the current tier is refused.
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buttonOf, clickPayload, sendInteraction, submitPayload, type InteractionTarget, type OpenedView } from '#local/slack-client.ts';
import type { SlackStoredMessage } from '#local/slack.ts';
import { SLACK_INTERACTIONS_PATH } from '#shared/channels/slack-route.ts';
import { DEFAULT_DENY_REASONS } from '#shared/channels/slack-settings.ts';
import { decisionEventDetail } from '#shared/review/decision-event.ts';
import type { DeploymentConfigInput } from '#shared/schemas/config.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';
import { stackReads } from '../support/stack-reads.ts';

const CONFIG = {
  sender: 'hitl@example.com',
  slack: { channel: 'C0REVIEWS' },
  reviewerGroups: {
    'support-leads': {
      tiers: [
        { name: 'support leads', members: [{ email: 'lead@example.com', slack: 'U0LEAD' }, { slack: 'U0SLACKONLY' }, 'mailonly@example.com'] },
        { name: 'support managers', members: [{ email: 'manager@example.com', slack: 'U0MANAGER' }] },
      ],
    },
  },
} satisfies DeploymentConfigInput;

let stack: TestStack;
let target: InteractionTarget;
const { row, events, start, pending, outcome, linkFor, until } = stackReads(() => stack);
let n = 0;

beforeAll(async () => {
  stack = await startTestStack({ context: { hitl: CONFIG } });
  target = { url: `${stack.endpoints.respond}${SLACK_INTERACTIONS_PATH}`, signingSecret: stack.slack!.credentials.signingSecret };
}, 240_000);
afterAll(async () => stack?.stop());

function refund(amount = 350) {
  return {
    kind: 'approval',
    agent: 'billing-bot',
    reviewerGroup: 'support-leads',
    action: { name: 'refund', args: { order_id: `O-${++n}`, amount_usd: amount } },
    reason: 'duplicate charge',
    risk: { class: 'financial', reversible: false },
    ttlSeconds: 600,
  };
}

/** The request's Slack message as the stand-in holds it now. */
async function messageOf(requestId: string): Promise<SlackStoredMessage> {
  const at = (await row(requestId))!.slackMessage!;
  return stack.slack!.messages().find((m) => m.channel === at.channel && m.ts === at.ts)!;
}

async function opened() {
  const started = await start(refund());
  await pending(started.requestId);
  return { ...started, message: await messageOf(started.requestId) };
}

/** Put a `hitl.decision` event on the decision bus, as anyone allowed to could. */
async function putDecisionEvent(detail: unknown): Promise<void> {
  const bus = stack.resources.functions.map((f) => f.env.HITL_EVENT_BUS_NAME).find(Boolean)!;
  const out = await stack.clients.events.send(new PutEventsCommand({ Entries: [{ Source: 'hitl', DetailType: 'hitl.decision', EventBusName: bus, Detail: JSON.stringify(detail) }] }));
  expect(out.FailedEntryCount).toBe(0);
}

const blocksText = (m: SlackStoredMessage) => JSON.stringify(m.blocks);
const hasButtons = (m: SlackStoredMessage) => (m.blocks ?? []).some((b) => (b as { type: string }).type === 'actions');

describe('Slack channel', () => {
  it('posts the card once per round to the channel, mentioning the tier members on Slack', async () => {
    const { requestId, message } = await opened();
    expect(message.channel).toBe('C0REVIEWS');
    expect(blocksText(message)).toContain('<@U0LEAD>');
    expect(blocksText(message)).toContain('<@U0SLACKONLY>');
    expect(blocksText(message)).not.toContain('U0MANAGER');
    expect(blocksText(message)).toContain('refund');
    for (const action of ['hitl.approve', 'hitl.deny', 'hitl.modify', 'hitl.escalate']) expect(buttonOf(message, action).value).toContain(requestId);
    const posts = stack.slack!.calls('chat.postMessage').filter((c) => JSON.stringify(c.args.blocks).includes(requestId));
    expect(posts).toHaveLength(1);
    // Email still goes to the members with an address; the Slack-only member gets none.
    await stack.waitForReviewEmails(requestId, { to: 'mailonly@example.com' });
    const notified = (await events(requestId)).find((e) => e.event === 'notified')!;
    expect(notified.details).toMatchObject({ recipients: ['lead@example.com', 'mailonly@example.com'], channels: { slack: { reached: ['lead@example.com', 'slack:U0SLACKONLY'] } } });
  });

  it('Approve: the execution resumes approved with channel slack, and the message shows the outcome for everyone', async () => {
    const { executionArn, requestId, message } = await opened();
    const res = await sendInteraction(target, clickPayload('U0LEAD', message, 'hitl.approve'));
    expect(res.status).toBe(200);
    const { status, decision } = await outcome(executionArn);
    expect(status).toBe('SUCCEEDED');
    expect(decision).toMatchObject({ outcome: 'approved', decidedBy: 'lead@example.com', channel: 'slack', approvedArgs: { amount_usd: 350 } });
    const updated = await until('message updated', async () => {
      const m = await messageOf(requestId);
      return m.updates > 0 ? m : undefined;
    });
    expect(hasButtons(updated)).toBe(false);
    expect(blocksText(updated)).toContain('Approved');
    expect(blocksText(updated)).toContain('lead@example.com');

    // The same decision event again (EventBridge delivers at least once): the same message shows the same outcome.
    await stack.events.settled(60_000);
    const once = await messageOf(requestId);
    const decided = (await row(requestId))!;
    await putDecisionEvent(decisionEventDetail(decided, decided.decision!));
    await stack.events.settled(60_000);
    const again = await messageOf(requestId);
    expect(again.updates).toBe(once.updates + 1);
    expect(hasButtons(again)).toBe(false);
    expect(blocksText(again)).toContain('Approved');
    expect(stack.slack!.calls('chat.postMessage').filter((c) => JSON.stringify(c.args.blocks).includes(requestId))).toHaveLength(1);
    const log = await events(requestId);
    expect(log.filter((e) => e.event === 'decided')).toHaveLength(1);
    expect(log.find((e) => e.event === 'decided')!.details).toMatchObject({ channel: 'slack' });

    // A second click (someone else, later) changes nothing and is told who decided.
    await sendInteraction(target, clickPayload('U0SLACKONLY', message, 'hitl.approve'));
    const told = stack.slack!.calls('chat.postEphemeral').filter((c) => c.args.user === 'U0SLACKONLY').at(-1)!;
    expect(String(told.args.text)).toContain('Already decided by lead@example.com');
    expect((await events(requestId)).filter((e) => e.event === 'decided')).toHaveLength(1);
  });

  it('Deny opens a modal; an empty reason is refused on its field; a preset reason denies', async () => {
    const { executionArn, requestId, message } = await opened();
    const click = clickPayload('U0SLACKONLY', message, 'hitl.deny');
    expect((await sendInteraction(target, click)).status).toBe(200);
    const openCall = stack.slack!.calls('views.open').find((c) => c.args.trigger_id === click.trigger_id)!;
    const view = openCall.args.view as OpenedView;
    expect(view.callback_id).toBe('hitl.deny');

    const empty = await sendInteraction(target, submitPayload('U0SLACKONLY', view, {}));
    expect(empty.status).toBe(200);
    expect(await empty.json()).toEqual({ response_action: 'errors', errors: { reason_text: expect.stringMatching(/say why/) } });
    expect((await row(requestId))!.status).toBe('PENDING');

    const preset = DEFAULT_DENY_REASONS[0]!;
    const denied = await sendInteraction(target, submitPayload('U0SLACKONLY', view, { reason_preset: preset }));
    expect(denied.status).toBe(200);
    expect(await denied.text()).toBe('');
    const { decision } = await outcome(executionArn);
    expect(decision).toMatchObject({ outcome: 'denied', reason: preset, decidedBy: 'slack:U0SLACKONLY', channel: 'slack' });
    const updated = await until('message updated', async () => ((await messageOf(requestId)).updates > 0 ? messageOf(requestId) : undefined));
    expect(blocksText(updated)).toContain('Denied');
    expect(blocksText(updated)).toContain('<@U0SLACKONLY>');
  });

  it('Modify: the modal holds each argument; a bad number is refused on its field; the edited args approve', async () => {
    const { executionArn, requestId, message } = await opened();
    const click = clickPayload('U0LEAD', message, 'hitl.modify');
    await sendInteraction(target, click);
    const view = stack.slack!.calls('views.open').find((c) => c.args.trigger_id === click.trigger_id)!.args.view as OpenedView;
    const bad = await sendInteraction(target, submitPayload('U0LEAD', view, { 'arg.amount_usd': 'lots' }));
    expect(await bad.json()).toEqual({ response_action: 'errors', errors: { 'arg.amount_usd': expect.stringMatching(/expected a number/) } });
    expect((await row(requestId))!.status).toBe('PENDING');
    await sendInteraction(target, submitPayload('U0LEAD', view, { 'arg.amount_usd': '300' }));
    const { decision } = await outcome(executionArn);
    expect(decision).toMatchObject({ outcome: 'modified', approvedArgs: { order_id: expect.any(String), amount_usd: 300 }, channel: 'slack' });
  });

  it('refuses a bad signature, a signature with another secret and a stale timestamp with 401, deciding nothing', async () => {
    const { requestId, message } = await opened();
    const payload = clickPayload('U0LEAD', message, 'hitl.approve');
    const bad = await sendInteraction(target, payload, { signature: `v0=${'0'.repeat(64)}` });
    const otherSecret = await sendInteraction({ ...target, signingSecret: 'not-the-apps-signing-secret' }, payload);
    const stale = await sendInteraction(target, payload, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    const unsigned = await fetch(target.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `payload=${encodeURIComponent(JSON.stringify(payload))}` });
    expect([bad.status, otherSecret.status, stale.status, unsigned.status]).toEqual([401, 401, 401, 401]);
    expect(await stale.json()).toEqual({ error: expect.stringMatching(/five-minute/) });
    const current = (await row(requestId))!;
    expect(current.status).toBe('PENDING');
    expect(current.decision).toBeUndefined();
    expect((await events(requestId)).map((e) => e.event)).not.toContain('decided');
  });

  it('refuses a Slack user outside the group, and a member of another tier, with an ephemeral message', async () => {
    const { requestId, message } = await opened();
    await sendInteraction(target, clickPayload('U0STRANGER', message, 'hitl.approve'));
    await sendInteraction(target, clickPayload('U0MANAGER', message, 'hitl.approve'));
    await sendInteraction(target, clickPayload('U0STRANGER', message, 'hitl.deny'));
    const ephemerals = stack.slack!.calls('chat.postEphemeral');
    const toStranger = ephemerals.filter((c) => c.args.user === 'U0STRANGER');
    expect(toStranger).toHaveLength(2);
    expect(String(toStranger[0]!.args.text)).toMatch(/not a reviewer of the "support-leads" group/);
    expect(String(ephemerals.filter((c) => c.args.user === 'U0MANAGER').at(-1)!.args.text)).toMatch(/support leads/);
    expect(stack.slack!.calls('views.open').some((c) => JSON.stringify(c.args.view).includes(requestId))).toBe(false);
    expect((await row(requestId))!.status).toBe('PENDING');
    expect((await events(requestId)).map((e) => e.event)).not.toContain('decided');
  });

  it('a decision event forged for a pending request leaves its message as it is, buttons and all', async () => {
    const { requestId } = await opened();
    await putDecisionEvent({ requestId, outcome: 'approved', decidedBy: 'lead@example.com', status: 'DECIDED' });
    await stack.events.settled(60_000);
    const message = await messageOf(requestId);
    expect(message.updates).toBe(0);
    expect(hasButtons(message)).toBe(true);
    expect((await row(requestId))!.status).toBe('PENDING');
  });

  it('a cancel (StopExecution) updates the message too, and its buttons then decide nothing', async () => {
    const { executionArn, requestId, message } = await opened();
    await stack.clients.sfn.send(new StopExecutionCommand({ executionArn, cause: 'user withdrew the request' }));
    const updated = await until('message updated', async () => ((await messageOf(requestId)).updates > 0 ? messageOf(requestId) : undefined));
    expect(hasButtons(updated)).toBe(false);
    expect(blocksText(updated)).toContain('Cancelled');
    await sendInteraction(target, clickPayload('U0LEAD', message, 'hitl.approve'));
    expect((await row(requestId))!.status).toBe('CANCELLED');
    expect((await events(requestId)).map((e) => e.event)).not.toContain('decided');
  });

  it('Escalate posts a new message for the next tier and marks the old one; an email decision updates the new one', async () => {
    const { executionArn, requestId, message } = await opened();
    await sendInteraction(target, clickPayload('U0LEAD', message, 'hitl.escalate'));
    const moved = await until('round 2 posted', async () => {
      const r = await row(requestId);
      return r?.slackMessage?.round === 2 && r.notifiedRound === 2 ? r : undefined;
    });
    const old = stack.slack!.messages().find((m) => m.ts === message.ts)!;
    expect(hasButtons(old)).toBe(false);
    expect(blocksText(old)).toContain('Moved on');
    const second = await messageOf(requestId);
    expect(second.ts).not.toBe(message.ts);
    expect(blocksText(second)).toContain('<@U0MANAGER>');
    expect(moved.tier).toBe(2);

    const link = await linkFor(requestId, 'manager@example.com');
    expect((await stack.submit(link, { choice: 'approve', round: '2' })).status).toBe(200);
    const { decision } = await outcome(executionArn);
    expect(decision).toMatchObject({ outcome: 'approved', decidedBy: 'manager@example.com', channel: 'email', tier: 2 });
    const updated = await until('second message updated', async () => ((await messageOf(requestId)).updates > 0 ? messageOf(requestId) : undefined));
    expect(blocksText(updated)).toContain('via email');
  });
});
