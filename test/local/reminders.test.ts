/**
 * Reminders on the whole local stack: the group's `reminders` schedule one reminder at a time on the local
 * Scheduler, which fires the expire function's `remind`; each reminder goes to the channels the round was
 * delivered on (email, a reply in the Slack thread). The Scheduler runs on a manual clock and the functions'
 * `Date` is faked to match.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '#local/clock.ts';
import type { StoredEmail } from '#local/ses.ts';
import type { DeploymentConfigInput } from '#shared/schemas/config.ts';
import { startTestStack, type TestStack } from '../support/local-stack.ts';
import { stackReads } from '../support/stack-reads.ts';

const START = new Date('2026-11-24T10:00:00Z');
const clock = new ManualClock(START);
const SECOND = 1000;

const CONFIG = {
  sender: 'hitl@example.com',
  slack: { channel: 'C0REVIEWS' },
  reviewerGroups: {
    'support-leads': {
      tiers: [{ name: 'support leads', members: [{ email: 'lead@example.com', slack: 'U0LEAD' }, 'lead2@example.com'] }],
      reminders: ['50%', '1m'],
    },
  },
} satisfies DeploymentConfigInput;

let stack: TestStack;
const { row, events, start, pending, outcome, linkFor, until } = stackReads(() => stack);
let n = 0;

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'], now: START });
  stack = await startTestStack({ clock, context: { hitl: CONFIG } });
}, 240_000);

afterAll(async () => {
  await stack?.stop();
  vi.useRealTimers();
});

async function advanceTo(at: number): Promise<void> {
  vi.setSystemTime(at);
  await stack.scheduler.advanceTo(at);
}

function refund(ttlSeconds: number) {
  return {
    kind: 'approval',
    agent: 'billing-bot',
    reviewerGroup: 'support-leads',
    action: { name: 'refund', args: { order_id: `O-${++n}`, amount_usd: 20 } },
    reason: 'duplicate charge',
    risk: { class: 'financial', reversible: false },
    ttlSeconds,
  };
}

async function remindersOf(requestId: string): Promise<StoredEmail[]> {
  return (await stack.reviewEmails(requestId)).filter((e) => e.subject.startsWith('Reminder, '));
}

function threadReplies(ts: string) {
  return stack.slack!.calls('chat.postMessage').filter((c) => c.args.thread_ts === ts);
}

async function remindedCount(requestId: string): Promise<number> {
  return (await events(requestId)).filter((e) => e.event === 'reminded').length;
}

describe('reminders before a time box ends', () => {
  it('a 3-minute box with ["50%", "1m"]: exactly two reminders on each channel, before the expiry, none after', async () => {
    const t0 = Date.now();
    const { executionArn, requestId } = await start(refund(180));
    const first = await pending(requestId);
    expect(first.reminders).toEqual(['50%', '1m']);
    const ts = first.slackMessage!.ts;

    await advanceTo(t0 + 90 * SECOND);
    await until('the first reminder', async () => ((await remindedCount(requestId)) === 1 && threadReplies(ts).length === 1 ? true : undefined));
    const [one] = await remindersOf(requestId);
    expect(one!.subject).toMatch(/^Reminder, /);
    expect(one!.body.text).toContain('Reminder: this request expires in 1 min, then it is denied (expired).');

    await advanceTo(t0 + 120 * SECOND);
    await until('the second reminder', async () => ((await remindedCount(requestId)) === 2 && threadReplies(ts).length === 2 ? true : undefined));
    expect(String(threadReplies(ts)[1]!.args.text)).toContain('<@U0LEAD>');
    expect(String(threadReplies(ts)[1]!.args.text)).toContain('expires in 1 min');

    await advanceTo(t0 + 181 * SECOND);
    expect((await outcome(executionArn)).decision).toMatchObject({ outcome: 'expired' });
    await advanceTo(t0 + 600 * SECOND);
    await stack.events.settled(60_000);

    const reminders = await remindersOf(requestId);
    expect(reminders.map((e) => e.destination.to[0]).sort()).toEqual(['lead2@example.com', 'lead2@example.com', 'lead@example.com', 'lead@example.com']);
    expect(threadReplies(ts)).toHaveLength(2);
    const log = await events(requestId);
    const expired = log.find((e) => e.event === 'expired')!;
    const reminded = log.filter((e) => e.event === 'reminded');
    expect(reminded.map((e) => e.details?.reminder)).toEqual([1, 2]);
    for (const e of reminded) expect(Date.parse(e.at)).toBeLessThan(Date.parse(expired.at));
    expect(await row(requestId)).toMatchObject({ status: 'EXPIRED', reminderRound: 1, remindersSent: 2 });
  });

  it('none after a decision: approved after the first reminder, the second never goes out', async () => {
    const t0 = Date.now();
    const { executionArn, requestId } = await start(refund(180));
    const ts = (await pending(requestId)).slackMessage!.ts;
    await advanceTo(t0 + 90 * SECOND);
    await until('the first reminder', async () => ((await remindedCount(requestId)) === 1 ? true : undefined));

    const link = await linkFor(requestId, 'lead2@example.com');
    expect((await stack.submit(link, { choice: 'approve', round: '1' })).status).toBe(200);
    expect((await outcome(executionArn)).decision).toMatchObject({ outcome: 'approved' });
    await advanceTo(t0 + 200 * SECOND);
    await stack.events.settled(60_000);

    expect(await remindedCount(requestId)).toBe(1);
    expect(await remindersOf(requestId)).toHaveLength(2);
    expect(threadReplies(ts)).toHaveLength(1);
  });

  it('a reminder racing the decision, 20 trials: claimed only while pending, each claim sent once, a late or repeated firing sends nothing', async () => {
    const trials = await Promise.all(Array.from({ length: 20 }, () => start(refund(1800))));
    for (const t of trials) await pending(t.requestId);
    const expireFn = stack.resources.functions.find((f) => f.handlerFile === 'functions/expire.ts')!.logicalId;
    const remind = (requestId: string) => stack.lambda.invoke(expireFn, { action: 'remind', requestId, tier: 1, round: 1, reminder: 1 }) as Promise<{ result: string }>;
    const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

    const links = await Promise.all(trials.map((t) => linkFor(t.requestId, 'lead@example.com')));
    // Five races at a time, the reminder held back 0-48 ms so both sides win some.
    const results: string[] = [];
    for (let batch = 0; batch < trials.length; batch += 5) {
      results.push(
        ...(await Promise.all(
          trials.slice(batch, batch + 5).map(async (t, j) => {
            const [post, reminded] = await Promise.all([stack.submit(links[batch + j]!, { choice: 'approve', round: '1' }), pause(j * 12).then(() => remind(t.requestId))]);
            expect(post.status).toBe(200);
            return reminded.result;
          }),
        )),
      );
    }
    // Both sides win some of the races (the claim is one conditional write either way).
    expect(results.every((r) => r === 'reminded' || r === 'no-op')).toBe(true);

    for (const t of trials) {
      expect((await outcome(t.executionArn)).decision).toMatchObject({ outcome: 'approved' });
      expect(await remind(t.requestId)).toMatchObject({ result: 'no-op' });
    }
    await stack.events.settled(60_000);
    for (const t of trials) {
      const claimed = await remindedCount(t.requestId);
      expect(claimed).toBeLessThanOrEqual(1);
      // Each claim went out once to each emailed reviewer; no claim, nothing sent.
      expect(await remindersOf(t.requestId)).toHaveLength(claimed * 2);
      expect((await row(t.requestId))?.remindersSent ?? 0).toBe(claimed);
    }
  });
});
