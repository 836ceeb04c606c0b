import { describe, expect, it } from 'vitest';
import { approveLabel, keyArgs, riskBadges } from '#shared/render/headline.ts';
import { renderOutcomeEmail, renderReviewPage } from '#shared/render/index.ts';
import { outcomeRecipients } from '#shared/channels/outcome-notice.ts';
import { ReviewerGroup } from '#shared/schemas/config.ts';
import type { ReviewRequestInput } from '#shared/schemas/review-request.ts';
import { parseResponseForm } from '#shared/schemas/response-form.ts';
import { storedRequest } from '../support/stored-request.ts';

const group = ReviewerGroup.parse({
  tiers: [
    { name: 'support leads', members: ['lead@example.com', 'lead2@example.com'] },
    { name: 'support managers', members: ['manager@example.com'] },
  ],
  timeZone: 'Europe/London',
});
const NOW = new Date('2025-06-03T13:03:00Z');
const LINK = 'https://review.example.com/r/r0123456789abcdef01234567?a=lead%40example.com&e=1748960000&k=k1&s=Zm9vYmFy';
const refund: ReviewRequestInput = {
  kind: 'approval',
  agent: 'customer-support-agent',
  reason: 'defective',
  risk: { class: 'financial', reversible: false },
  reviewerGroup: 'support-leads',
  action: { name: 'refund', args: { order_id: 'O-9421', amount_usd: 350 } },
};

const page = (input: ReviewRequestInput, extra: Partial<Parameters<typeof renderReviewPage>[0]> = {}) =>
  renderReviewPage({ request: storedRequest(input), group, now: NOW, approver: 'lead@example.com', formAction: LINK, canEscalate: true, ...extra });

/** The <details> element holding the field with this id. */
function detailsOf(doc: string, fieldId: string): string {
  const block = [...doc.matchAll(/<details\b[^>]*>[\s\S]*?<\/details>/g)].map((m) => m[0]).find((d) => d.includes(`id="${fieldId}"`));
  expect(block, fieldId).toBeDefined();
  return block!;
}

describe('key arguments', () => {
  it('puts amounts first, then ids, with currency from the name or a currency argument', () => {
    expect(keyArgs({ order_id: 'O-9421', amount_usd: 350 })).toEqual(['$350', 'O-9421']);
    expect(keyArgs({ total_cents: 123456, currency: 'EUR', invoice: 'INV-7' })).toEqual(['€1,234.56', 'INV-7']);
    expect(keyArgs({ amount: 20, currency: 'CHF' })).toEqual(['20 CHF']);
  });

  it('leaves out sentences, links and long values, and stays short', () => {
    expect(keyArgs({ note: 'see https://evil.example', order_id: 'evil.example/x', ticket: 'a b' })).toEqual([]);
    expect(keyArgs({ order_id: 'A'.repeat(24), account_id: 'B'.repeat(24), user_id: 'C' })).toEqual(['A'.repeat(24), 'C']);
    expect(keyArgs({ a_id: '1', b_id: '2', c_id: '3', d_id: '4' })).toHaveLength(3);
  });

  it('names the consequence on the approve button', () => {
    expect(approveLabel(storedRequest(refund))).toBe('Approve refund · $350 · O-9421 · irreversible');
    expect(approveLabel(storedRequest({ ...refund, risk: { class: 'internal', reversible: true }, action: { name: 'crm.update_contact', args: { id: 'C-1' } } }))).toBe(
      'Approve crm update contact · C-1',
    );
  });

  it('badges irreversible and financial risk with words as well as colour', () => {
    expect(riskBadges({ class: 'financial', reversible: false })).toEqual([
      { text: 'Irreversible', tone: 'danger' },
      { text: 'Financial', tone: 'caution' },
    ]);
    expect(riskBadges({ class: 'read-only', reversible: true })).toEqual([
      { text: 'Read-only', tone: 'neutral' },
      { text: 'Reversible', tone: 'neutral' },
    ]);
  });
});

describe('review page', () => {
  it('puts the head and the decision before the details, and a skip link first', () => {
    const doc = page(refund);
    const order = ['class="skip"', 'id="card-title"', 'id="decide-title"', 'id="details-title"'].map((m) => doc.indexOf(m));
    expect(order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]!))).toBe(true);
    expect(doc).toContain('⚠ Irreversible');
    expect(doc).not.toMatch(/<button[^>]*autofocus/);
  });

  it('opens the section an email button armed, never one it does not offer', () => {
    expect(detailsOf(page(refund, { armed: 'deny' }), 'deny-reason')).toMatch(/^<details open>/);
    expect(detailsOf(page(refund, { armed: 'escalate' }), 'escalate-reason')).toMatch(/^<details open>/);
    expect(page(refund, { armed: 'approve' })).toContain('You chose to approve in the email. One more tap commits it; it cannot be undone.');
    expect(detailsOf(page(refund), 'deny-reason')).toMatch(/^<details>/);
  });

  it('reopens a post that failed with what was typed', () => {
    const doc = page(refund, { retry: { choice: 'modify', fields: { choice: 'modify', 'arg.order_id': 'O-9421', 'arg.amount_usd': 'abc', comment: 'typo?' } } });
    const modify = detailsOf(doc, 'arg-1');
    expect(modify).toMatch(/^<details open>/);
    expect(modify).toContain('value="abc"');
    expect(modify).toContain('>\ntypo?</textarea>');
    const deny = page(refund, { retry: { choice: 'deny', fields: { choice: 'deny', reason: '   ', preset: 'Amount too high' } }, denyReasons: ['Amount too high', 'Other'] });
    expect(detailsOf(deny, 'deny-reason')).toMatch(/^<details open>/);
    expect(detailsOf(deny, 'deny-reason')).toContain('>\n   </textarea>');
    expect(detailsOf(deny, 'deny-reason')).toMatch(/value="Amount too high" id="deny-preset-0" checked/);
  });

  it('offers preset deny reasons beside free text, and the form joins them', () => {
    const doc = page(refund, { denyReasons: ['Amount too high'] });
    expect(doc).toContain('<legend>Pick a reason</legend>');
    expect(doc).not.toMatch(/id="deny-reason"[^>]*required/);
    expect(parseResponseForm({ choice: 'deny', round: '1', preset: 'Amount too high', reason: '' })).toMatchObject({ reason: 'Amount too high' });
    expect(parseResponseForm({ choice: 'deny', round: '1', preset: 'Amount too high', reason: ' order is $120 ' })).toMatchObject({ reason: 'Amount too high: order is $120' });
    expect(() => parseResponseForm({ choice: 'deny', round: '1', preset: ' ', reason: '  ' })).toThrow(/reason: say why/);
  });

  it('asks why on escalate; an old client that sends no reason still escalates', () => {
    expect(parseResponseForm({ choice: 'escalate', round: '1', reason: 'over my limit' })).toMatchObject({ choice: 'escalate', reason: 'over my limit' });
    expect(parseResponseForm({ choice: 'escalate', round: '1' })).toEqual({ choice: 'escalate', round: 1 });
    expect(() => parseResponseForm({ choice: 'escalate', round: '1', reason: '   ' })).toThrow(/reason: say why/);
  });
});

describe('outcome notice', () => {
  const decided = storedRequest(refund, {
    status: 'DECIDED',
    deliveries: { '1:lead@example.com': 'm1', '1:lead2@example.com': 'm2', '2:manager@example.com': 'm3', '2:lead2@example.com': 'm4' },
    decision: {
      requestId: 'r0123456789abcdef01234567',
      kind: 'approval',
      outcome: 'denied',
      reason: 'Amount too high',
      decidedBy: 'Lead@example.com',
      tier: 1,
      requestedAt: '2025-06-03T13:00:00.000Z',
      decidedAt: '2025-06-03T13:02:00.000Z',
      latencyMs: 120_000,
    },
  });

  it('goes to everyone emailed about the request, once each, never the decider', () => {
    expect(outcomeRecipients(decided)).toEqual(['lead2@example.com', 'manager@example.com']);
    expect(outcomeRecipients({ deliveries: undefined, decision: decided.decision })).toEqual([]);
  });

  it('says who decided what, with no link', () => {
    const mail = renderOutcomeEmail({ request: decided, group, now: NOW });
    expect(mail.subject).toBe('Denied by Lead@example.com at 14:02 (Europe/London): Refund $350 O-9421 · customer-support-agent');
    expect(mail.text).toContain('Reason: Amount too high');
    expect(`${mail.html}${mail.text}`).not.toMatch(/https?:\/\/|<a\b/);
    expect(mail.html).toMatch(/<main[\s>]/);
  });
});
