import { SESClient } from '@aws-sdk/client-ses';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EmailDeliveryError, sendReviewEmails } from '#shared/notify.ts';
import { ReviewerGroup } from '#shared/schemas/config.ts';
import { parseKeyRing, reviewUrl, verifyLink } from '#shared/signing.ts';
import { memberId } from '#shared/schemas/member.ts';
import { startSes, type SesEmulator } from '../support/ses.ts';
import { storedRequest, TEST_TASK_TOKEN } from '../support/stored-request.ts';

const group = ReviewerGroup.parse({
  tiers: [
    { name: 'support leads', members: ['lead@example.com', 'lead2@example.com', 'lead3@example.com'] },
    { name: 'support managers', members: ['manager@example.com'] },
  ],
  timeZone: 'Europe/London',
});
const NOW = new Date('2025-06-03T13:03:00Z');
const TOKEN = TEST_TASK_TOKEN;
const ring = parseKeyRing(JSON.stringify({ current: 'k1', k1: 'k1-secret-0123456789abcdefghijklmnopqrstuvwxyz' }));

const row = storedRequest();

describe('sendReviewEmails against aws-ses-v2-local', () => {
  let ses: SesEmulator;
  let client: SESClient;

  beforeAll(async () => {
    ses = await startSes();
    client = ses.client();
  });
  afterAll(async () => {
    await ses?.stop();
  });
  beforeEach(async () => {
    await ses.clear();
  });

  it('emails each tier member their own link, one message per person', async () => {
    const members = (group.tiers[0]?.members ?? []).map(memberId);
    const expiresAt = Date.parse(row.expiresAt) / 1000;
    const recipients = members.map((approver) => ({
      approver,
      link: reviewUrl('https://review.example.com', { requestId: row.requestId, approver, expiresAt }, ring),
    }));

    const sent = await sendReviewEmails(client, { sender: 'hitl@example.com', request: row, group, now: NOW, recipients });

    expect(sent.map((s) => s.approver)).toEqual(members);
    const emails = await ses.emails();
    expect(emails).toHaveLength(members.length);
    expect(new Set(emails.map((e) => e.messageId))).toEqual(new Set(sent.map((s) => s.messageId)));

    for (const { approver, link } of recipients) {
      const mine = emails.filter((e) => e.to.includes(approver));
      expect(mine).toHaveLength(1);
      const email = mine[0];
      if (!email) throw new Error('unreachable');
      expect(email.to).toEqual([approver]);
      expect(email.cc).toEqual([]);
      expect(email.bcc).toEqual([]);
      expect(email.from).toBe('hitl@example.com');
      expect(email.subject).toBe('Refund $350 O-9421 · irreversible · customer-support-agent');

      // Both parts carry this reviewer's link and nobody else's.
      expect(email.text).toContain(`\n${link}\n`);
      expect(email.html).toContain(`href="${link.replaceAll('&', '&amp;')}"`);
      for (const other of recipients.filter((r) => r.approver !== approver)) {
        expect(email.text).not.toContain(other.link);
        expect(email.html).not.toContain(other.link.replaceAll('&', '&amp;'));
      }
      expect(email.text).toContain('refund("order_id": "O-9421", "amount_usd": 350)');
      expect(email.html).toContain('Review and decide');

      // The link read back from the email verifies for this reviewer.
      const url = new URL((email.text ?? '').split('\n').find((l) => l.startsWith('https://')) ?? '');
      const verified = verifyLink(decodeURIComponent(url.pathname.split('/').at(-1) ?? ''), Object.fromEntries(url.searchParams), ring, NOW.getTime());
      expect(verified).toMatchObject({ approver, expired: false });

      expect(`${email.subject}${email.text}${email.html}`).not.toContain(TOKEN);
    }
  });

  it('reports the recipients SES refused, after trying everyone', async () => {
    // The emulator accepts any address, so this client refuses one the way SES does in its sandbox.
    const refusing = new SESClient(ses.clientConfig);
    refusing.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { Destination?: { ToAddresses?: string[] } };
        if (input.Destination?.ToAddresses?.includes('refused@example.com')) {
          throw Object.assign(new Error('Email address is not verified.'), { name: 'MessageRejected' });
        }
        return next(args);
      },
      { step: 'initialize' },
    );
    const recipients = [
      { approver: 'lead@example.com', link: 'https://review.example.com/r/x?a=1' },
      { approver: 'refused@example.com', link: 'https://review.example.com/r/x?a=2' },
      { approver: 'lead2@example.com', link: 'https://review.example.com/r/x?a=3' },
    ];
    const error = await sendReviewEmails(refusing, { sender: 'hitl@example.com', request: row, group, now: NOW, recipients }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EmailDeliveryError);
    const delivery = error as EmailDeliveryError;
    expect(delivery.name).toBe('EmailDeliveryError');
    expect(delivery.failed.map((f) => f.approver)).toEqual(['refused@example.com']);
    expect(delivery.message).toContain('refused@example.com');
    expect(delivery.sent.map((s) => s.approver).sort()).toEqual(['lead2@example.com', 'lead@example.com']);
    expect((await ses.emails()).flatMap((e) => e.to).sort()).toEqual(['lead2@example.com', 'lead@example.com']);
    refusing.destroy();
  });

  it('waits for emails to arrive', async () => {
    const pending = ses.waitForEmails(1, { to: 'manager@example.com', timeoutMs: 5000 });
    await sendReviewEmails(client, {
      sender: 'hitl@example.com',
      request: { ...row, tier: 2 },
      group,
      now: NOW,
      recipients: [{ approver: 'manager@example.com', link: 'https://review.example.com/r/x?a=m' }],
    });
    const [email] = await pending;
    expect(email?.subject).toBe('Refund $350 O-9421 · irreversible · customer-support-agent · escalated');
    await expect(ses.waitForEmails(1, { to: 'nobody@example.com', timeoutMs: 100 })).rejects.toThrow('found 0');
  });
});
