import { describe, expect, it } from 'vitest';
import { ReviewerGroup } from '#shared/schemas/config.ts';
import type { Decision } from '#shared/schemas/decision.ts';
import type { ReviewRequestInput } from '#shared/schemas/review-request.ts';
import { parseResponseForm } from '#shared/schemas/response-form.ts';
import type { StoredRequest } from '#shared/store/model.ts';
import { storedRequest, TEST_TASK_TOKEN } from '../support/stored-request.ts';
import { renderErrorPage, renderReviewEmail, renderReviewPage, renderStatusPage } from '#shared/render/index.ts';

// ---------- fixtures ----------

const group = ReviewerGroup.parse({
  tiers: [
    { name: 'support leads', members: ['lead@example.com', 'lead2@example.com'] },
    { name: 'support managers', members: ['manager@example.com'] },
  ],
  timeZone: 'Europe/London',
});
const NOW = new Date('2025-06-03T13:03:00Z'); // 14:03 in London
const TOKEN = TEST_TASK_TOKEN;
const LINK = 'https://review.example.com/r/r0123456789abcdef01234567?a=lead%40example.com&e=1748960000&k=k1&s=Zm9vYmFy';

const base = {
  agent: 'customer-support-agent',
  reason: 'customer reported defective product, attached photos confirm',
  planStep: { current: 3, total: 4 },
  context: 'customer has 6 prior orders, no prior refunds',
  risk: { class: 'financial', reversible: false },
  reviewerGroup: 'support-leads',
};

const approval: ReviewRequestInput = {
  kind: 'approval',
  ...base,
  action: { name: 'refund', args: { order_id: 'O-9421', amount_usd: 350 } },
};

const stored = (input: ReviewRequestInput, overrides: Partial<StoredRequest> = {}) => storedRequest(input, overrides);

function decision(overrides: Partial<Decision>): Decision {
  return {
    requestId: 'r0123456789abcdef01234567',
    kind: 'approval',
    outcome: 'approved',
    decidedBy: 'lead@example.com',
    tier: 1,
    requestedAt: '2025-06-03T13:00:00.000Z',
    decidedAt: '2025-06-03T13:02:00.000Z',
    latencyMs: 120_000,
    ...overrides,
  };
}

// ---------- a small HTML reader: enough to check structure without a DOM ----------

interface Tag {
  name: string;
  attrs: Record<string, string>;
  attrNames: string[];
}

const ENTITIES: Record<string, string> = { '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&#96;': '`', '&amp;': '&' };
const decode = (s: string) => s.replace(/&(lt|gt|quot|#39|#96|amp);/g, (e) => ENTITIES[e] ?? e);

function tags(doc: string): Tag[] {
  const out: Tag[] = [];
  for (const m of doc.matchAll(/<([a-zA-Z][a-zA-Z0-9]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g)) {
    const attrs: Record<string, string> = {};
    const attrNames: string[] = [];
    for (const a of (m[2] ?? '').matchAll(/([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g)) {
      const name = (a[1] ?? '').toLowerCase();
      attrNames.push(name);
      attrs[name] = decode(a[2] ?? a[3] ?? a[4] ?? '');
    }
    out.push({ name: (m[1] ?? '').toLowerCase(), attrs, attrNames });
  }
  return out;
}

/** Visible text and form values, entities decoded. */
function textOf(doc: string): string {
  const noStyle = doc.replace(/<style>[\s\S]*?<\/style>/g, '');
  const values = tags(noStyle)
    .map((t) => t.attrs.value)
    .filter((v): v is string => v !== undefined);
  return `${decode(noStyle.replace(/<[^>]*>/g, ' '))}\n${values.join('\n')}`;
}

const ALLOWED_TAGS = new Set(
  'html head meta title style body main section article footer div h1 h2 p dl dt dd table caption tbody tr th td pre code ul ol li span br form input label textarea select option button details summary a nav fieldset legend'.split(
    ' ',
  ),
);

/** No script, no event handler, no tag we did not write, no URL we did not put there. */
function expectInert(doc: string, urls: { link?: string; formAction?: string } = {}): void {
  expect(doc).not.toMatch(/<script/i);
  expect(doc).not.toMatch(/<img/i);
  expect(doc).not.toMatch(/<\/textarea>\s*<script/i);
  for (const t of tags(doc)) {
    expect(ALLOWED_TAGS.has(t.name), `unexpected <${t.name}>`).toBe(true);
    for (const name of t.attrNames) expect(name.startsWith('on'), `event handler ${name} on <${t.name}>`).toBe(false);
    // Links: the personal link (bare, or with a choice armed) and the page's own skip link, nothing else.
    if (t.name === 'a' && t.attrs.href !== '#details-title') expect(t.attrs.href?.replace(/&choice=[a-z]+$/, '')).toBe(urls.link);
    if (t.name === 'form') expect(t.attrs.action).toBe(urls.formAction);
    expect(t.attrs.src).toBeUndefined();
  }
  // Every < in the document opens one of the tags above: nothing was smuggled in unescaped.
  const opened = (doc.replace(/<style>[\s\S]*?<\/style>/, '').match(/<(?!\/|!doctype)/gi) ?? []).length;
  expect(opened).toBe(tags(doc.replace(/<style>[\s\S]*?<\/style>/, '')).length);
}

interface SubmittedForm {
  action: string;
  method: string;
  fields: Record<string, string>;
  required: string[];
  buttonText: string;
}

/** What a browser would post for each form on the page (selects take their first option). */
function forms(doc: string): SubmittedForm[] {
  return [...doc.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)].map((m) => {
    const formTag = tags(`<form${m[1]}>`)[0] as Tag;
    const inner = m[2] ?? '';
    const fields: Record<string, string> = {};
    const required: string[] = [];
    for (const t of tags(inner)) {
      if (t.name === 'input' && t.attrs.name) fields[t.attrs.name] = t.attrs.value ?? '';
      if ((t.name === 'input' || t.name === 'textarea' || t.name === 'select') && 'required' in t.attrs) required.push(t.attrs.name as string);
    }
    for (const ta of inner.matchAll(/<textarea\b([^>]*)>\n?([\s\S]*?)<\/textarea>/g)) {
      fields[(tags(`<textarea${ta[1]}>`)[0] as Tag).attrs.name as string] = decode(ta[2] ?? '');
    }
    for (const sel of inner.matchAll(/<select\b([^>]*)>([\s\S]*?)<\/select>/g)) {
      const first = tags(sel[2] ?? '').find((t) => t.name === 'option');
      fields[(tags(`<select${sel[1]}>`)[0] as Tag).attrs.name as string] = first?.attrs.value ?? '';
    }
    const button = /<button\b[^>]*>([\s\S]*?)<\/button>/.exec(inner);
    return {
      action: formTag.attrs.action ?? '',
      method: formTag.attrs.method ?? '',
      fields,
      required,
      buttonText: decode((button?.[1] ?? '').replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim(),
    };
  });
}

function reviewPage(row: StoredRequest, extra: { canEscalate?: boolean; notice?: string; approver?: string } = {}): string {
  return renderReviewPage({
    request: row,
    group,
    now: NOW,
    approver: extra.approver ?? 'lead@example.com',
    formAction: LINK,
    canEscalate: extra.canEscalate ?? true,
    notice: extra.notice,
  });
}

// ---------- the card ----------

describe('review card', () => {
  it('shows every field of the lesson card for an approval', () => {
    const page = reviewPage(stored(approval));
    const text = textOf(page).replace(/\s+/g, ' ');
    expect(text).toContain('Approval needed');
    expect(text).toContain('customer-support-agent');
    expect(text).toContain('refund("order_id": "O-9421", "amount_usd": 350)');
    expect(text).toContain('customer reported defective product, attached photos confirm');
    expect(text).toContain('Plan step 3 of 4');
    expect(text).toContain('customer has 6 prior orders, no prior refunds');
    expect(text).toContain('financial · irreversible');
    expect(text).toContain('expires in 27 min (14:30 Europe/London)');
    expect(text).toContain('waiting 3 min');
    expect(text).toContain('support leads (tier 1 of 2)');
    expect(text).toContain('Reviewing as lead@example.com');
    expect(page).toMatch(/<title>Approval needed: customer-support-agent<\/title>/);
    expect(page).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
  });

  it('lists every argument in a table, objects as JSON', () => {
    const page = reviewPage(stored({ ...approval, action: { name: 'crm.update', args: { id: 7, tags: ['vip', 'eu'], active: false, note: null } } }));
    const rows = [...page.matchAll(/<tr><th scope="row"><code>([^<]*)<\/code><\/th><td><pre class="mono">([\s\S]*?)<\/pre><\/td><\/tr>/g)].map((m) => [
      decode(m[1] ?? ''),
      decode(m[2] ?? '').replace(/\s+/g, ''),
    ]);
    expect(rows).toEqual([
      ['"id"', '7'],
      ['"tags"', '["vip","eu"]'],
      ['"active"', 'false'],
      ['"note"', 'null'],
    ]);
  });

  it('shows time passed when the time box is over', () => {
    const text = textOf(reviewPage(stored(approval, { expiresAt: '2025-06-03T12:59:00.000Z' })));
    expect(text).toContain('expired 4 min ago (13:59 Europe/London)');
  });

  it('shows the escalation history', () => {
    const row = stored(approval, {
      tier: 2,
      round: 2,
      history: [
        { tier: 1, tierName: 'support leads', at: '2025-06-03T12:00:00.000Z', why: 'requested' },
        { tier: 2, tierName: 'support managers', at: '2025-06-03T12:30:00.000Z', why: 'No decision from support leads within 30 min' },
      ],
    });
    const text = textOf(reviewPage(row, { approver: 'manager@example.com', canEscalate: false })).replace(/\s+/g, ' ');
    expect(text).toContain('Sent to support leads at 13:00 Europe/London');
    expect(text).toContain('Escalated to support managers at 13:30 Europe/London: No decision from support leads within 30 min');
    expect(text).toContain('support managers (tier 2 of 2)');
  });

  it.each([
    [
      { kind: 'disambiguation', ...base, question: 'Which order did the customer mean?', options: [{ id: 'o1', label: 'Order O-9421', detail: 'blue kettle' }, { id: 'o2', label: 'Order O-9377' }] },
      ['Answer needed', 'Which order did the customer mean?', 'Order O-9421', 'blue kettle', 'Order O-9377'],
    ],
    [
      { kind: 'verification', ...base, draft: { channel: 'email', title: 'Your refund', body: 'Dear Jane,\nyour refund is on its way.', audience: 'jane@example.org' } },
      ['Review needed', 'email to jane@example.org', 'Your refund', 'Dear Jane,', 'your refund is on its way.'],
    ],
    [
      { kind: 'escalation', ...base, task: { summary: 'Customer wants to cancel a custom order', attempts: 'Checked policy; custom orders need a manager' } },
      ['Task handed over', 'Customer wants to cancel a custom order', 'Checked policy; custom orders need a manager'],
    ],
    [
      { kind: 'correction', ...base, output: { id: 'msg-77', content: 'Your order ships Monday.', sentAt: '2025-06-03T10:00:00Z' }, issue: 'It ships Tuesday' },
      ['Correction needed', 'msg-77', 'Your order ships Monday.', 'It ships Tuesday'],
    ],
  ].map(([input, expected]) => [(input as ReviewRequestInput).kind, input, expected]) as [string, ReviewRequestInput, string[]][])(
    'shows what a %s reviewer needs',
    (_kind, input, expected) => {
      const text = textOf(reviewPage(stored(input)));
      for (const e of expected) expect(text).toContain(e);
      expect(text).toContain('3 of 4');
      expect(text).toContain('expires in 27 min');
    },
  );
});

// ---------- the forms ----------

describe('review page forms', () => {
  function submit(form: SubmittedForm): ReturnType<typeof parseResponseForm> {
    const body = { ...form.fields };
    for (const name of form.required) if (!body[name]) body[name] = name === 'category' ? 'factual' : 'because';
    return parseResponseForm(body);
  }

  it('posts every approval choice to the signed link with the round, in the response-form schema', () => {
    const page = reviewPage(stored(approval, { round: 3 }));
    const all = forms(page);
    expect(all.map((f) => f.buttonText)).toEqual(['Approve refund · $350 · O-9421 · irreversible', 'Deny', 'Approve with changes', 'Escalate to support managers']);
    for (const f of all) {
      expect(f.method).toBe('post');
      expect(f.action).toBe(LINK);
      expect(f.fields.round).toBe('3');
    }
    expect(all.map((f) => submit(f).choice)).toEqual(['approve', 'deny', 'modify', 'escalate']);
    expect(all[1]?.required).toEqual(['reason']);
    expect(all[3]?.required).toEqual(['reason']);
    expect(submit(all[2] as SubmittedForm)).toMatchObject({ choice: 'modify', args: { order_id: 'O-9421', amount_usd: '350' } });
  });

  it('pre-fills modify inputs: strings raw, numbers and booleans as text, objects as JSON', () => {
    const args = { s: 'line one\nline two', n: 2.5, b: true, o: { k: [1, 'x'] }, z: null };
    const page = reviewPage(stored({ ...approval, action: { name: 'x', args } }));
    const modify = forms(page).find((f) => f.fields.choice === 'modify') as SubmittedForm;
    expect(modify.fields['arg.s']).toBe('line one\nline two');
    expect(modify.fields['arg.n']).toBe('2.5');
    expect(modify.fields['arg.b']).toBe('true');
    expect(JSON.parse(modify.fields['arg.o'] as string)).toEqual({ k: [1, 'x'] });
    expect(modify.fields['arg.z']).toBe('null');
  });

  it('offers escalation only when asked to', () => {
    const page = reviewPage(stored(approval), { canEscalate: false });
    expect(forms(page).some((f) => f.fields.choice === 'escalate')).toBe(false);
    expect(page).not.toContain('Escalate to');
    const last = reviewPage(stored(approval, { tier: 2 }), { canEscalate: true, approver: 'manager@example.com' });
    expect(forms(last).some((f) => f.fields.choice === 'escalate')).toBe(false);
  });

  it('gives a disambiguation one button per option', () => {
    const page = reviewPage(
      stored({ kind: 'disambiguation', ...base, question: 'Which?', options: [{ id: 'o1', label: 'First', detail: 'the blue one' }, { id: 'o-2', label: 'Second' }] }),
      { canEscalate: false },
    );
    const all = forms(page);
    expect(all.map((f) => [f.fields.choice, f.fields.option, f.buttonText])).toEqual([
      ['answer', 'o1', 'First the blue one'],
      ['answer', 'o-2', 'Second'],
      ['deny', undefined, 'Send back'],
    ]);
    expect(all.map((f) => submit(f).choice)).toEqual(['answer', 'answer', 'deny']);
  });

  it('lets a verification reviewer edit the draft', () => {
    const page = reviewPage(stored({ kind: 'verification', ...base, draft: { channel: 'post', title: 'Launch', body: '\nWe launched.' } }), { canEscalate: false });
    const modify = forms(page).find((f) => f.fields.choice === 'modify') as SubmittedForm;
    expect(modify.fields.draftTitle).toBe('Launch');
    expect(modify.fields.draftBody).toBe('We launched.');
    expect(submit(modify)).toMatchObject({ choice: 'modify', draftTitle: 'Launch', draftBody: 'We launched.' });
    expect(forms(page).map((f) => f.fields.choice)).toEqual(['approve', 'modify', 'deny']);
  });

  it('keeps a leading line break in a textarea value', () => {
    const page = reviewPage(stored({ ...approval, action: { name: 'x', args: { s: '\nindented\n  text that is long enough to need a text area rather than a line' } } }));
    const modify = forms(page).find((f) => f.fields.choice === 'modify') as SubmittedForm;
    expect(modify.fields['arg.s']).toBe('\nindented\n  text that is long enough to need a text area rather than a line');
  });

  it('asks an escalation reviewer what they did', () => {
    const page = reviewPage(stored({ kind: 'escalation', ...base, task: { summary: 'Do it' } }), { canEscalate: false });
    const all = forms(page);
    expect(all.map((f) => f.fields.choice)).toEqual(['resolve', 'deny']);
    expect(all[0]?.required).toEqual(['result']);
    expect(submit(all[0] as SubmittedForm)).toMatchObject({ choice: 'resolve', result: 'because' });
  });

  it('asks a correction reviewer for the right output and a category', () => {
    const page = reviewPage(stored({ kind: 'correction', ...base, output: { id: 'm1', content: 'Wrong answer' } }), { canEscalate: false });
    const correct = forms(page)[0] as SubmittedForm;
    expect(correct.fields.choice).toBe('correct');
    expect(correct.fields.correctedOutput).toBe('Wrong answer');
    expect(correct.required).toEqual(['correctedOutput', 'category']);
    expect(page).toMatch(/<option value="factual">factual<\/option>[\s\S]*<option value="other">other<\/option>/);
    expect(submit(correct)).toMatchObject({ choice: 'correct', category: 'factual', correctedOutput: 'Wrong answer' });
  });

  it('shows a notice above the card', () => {
    const page = reviewPage(stored(approval), { notice: 'reason: say why' });
    expect(page).toContain('<p class="notice" role="alert">reason: say why</p>');
    expect(page.indexOf('role="alert"')).toBeLessThan(page.indexOf('<article'));
  });

  it('uses no JavaScript and labels every input', () => {
    for (const input of [approval, { kind: 'correction', ...base, output: { id: 'm1', content: 'x' } }] as ReviewRequestInput[]) {
      const page = reviewPage(stored(input));
      const all = tags(page);
      const ids = new Set(all.filter((t) => t.name === 'label').map((t) => t.attrs.for));
      for (const t of all.filter((t) => ['textarea', 'select'].includes(t.name) || (t.name === 'input' && t.attrs.type !== 'hidden'))) {
        expect(ids.has(t.attrs.id), `no label for ${t.attrs.name}`).toBe(true);
      }
      expect(all.some((t) => t.name === 'script' || t.attrNames.some((n) => n.startsWith('on')))).toBe(false);
    }
  });
});

// ---------- the status page ----------

describe('status page', () => {
  const status = (row: StoredRequest, extra: { approver?: string; notice?: string } = {}) =>
    textOf(renderStatusPage({ request: row, group, now: NOW, ...extra })).replace(/\s+/g, ' ');

  it('says who approved and when, in the group time zone', () => {
    const text = status(stored(approval, { status: 'DECIDED', decision: decision({}) }));
    expect(text).toContain('Approved by lead@example.com at 14:02 (Europe/London)');
    expect(text).toContain('Approval request');
    expect(text).not.toContain('Approval needed');
    expect(text).not.toContain('expires in');
  });

  it('shows a denial with its reason', () => {
    const text = status(stored(approval, { status: 'DECIDED', decision: decision({ outcome: 'denied', decidedBy: 'lead2@example.com', reason: 'photos are of another product' }) }));
    expect(text).toContain('Denied by lead2@example.com at 14:02 (Europe/London)');
    expect(text).toContain('photos are of another product');
  });

  it('shows the changed arguments of a modified approval', () => {
    const d = decision({ outcome: 'modified', proposedArgs: { order_id: 'O-9421', amount_usd: 350 }, approvedArgs: { order_id: 'O-9421', amount_usd: 300 } });
    const text = status(stored(approval, { status: 'DECIDED', decision: d }));
    expect(text).toContain('Approved with changes by lead@example.com');
    expect(text).toContain('"amount_usd": 350 → 300');
    expect(text).toContain(' Changes "amount_usd": 350 → 300 Tier ');
  });

  it('explains a fallback', () => {
    const d = decision({
      outcome: 'expired',
      decidedBy: 'policy:fallback-deny',
      policy: { name: 'fallback-deny', why: 'No decision from support leads within 30 min; fallback policy deny' },
      decidedAt: '2025-06-03T13:30:00.000Z',
    });
    const text = status(stored(approval, { status: 'EXPIRED', decision: d }));
    expect(text).toContain('Expired at 14:30 (Europe/London) — fallback deny');
    expect(text).toContain('No decision from support leads within 30 min; fallback policy deny');
  });

  it('says when and to whom a request was escalated, and that this link is not for that tier', () => {
    const row = stored(approval, {
      tier: 2,
      round: 2,
      expiresAt: '2025-06-03T14:00:00.000Z',
      history: [
        { tier: 1, tierName: 'support leads', at: '2025-06-03T12:00:00.000Z', why: 'requested' },
        { tier: 2, tierName: 'support managers', at: '2025-06-03T12:31:00.000Z', why: 'escalated by lead@example.com' },
      ],
    });
    const text = status(row, { approver: 'lead@example.com' });
    expect(text).toContain('Escalated to support managers at 13:31 (Europe/London)');
    expect(text).toContain('is for lead@example.com, who is not in support managers');
    expect(text).toContain('expires in 57 min');
  });

  it('shows an expired link notice and still says what happened', () => {
    const text = status(stored(approval, { status: 'DECIDED', decision: decision({ outcome: 'answered', kind: 'disambiguation', chosenOption: { id: 'o2', label: 'Order O-9377' } }) }), {
      notice: 'This link has expired',
    });
    expect(text).toContain('This link has expired');
    expect(text).toContain('Answered by lead@example.com at 14:02 (Europe/London)');
    expect(text).toContain('Order O-9377');
  });

  it('says when a policy decided without a person', () => {
    const d = decision({ outcome: 'approved', decidedBy: 'policy:auto-approve', policy: { name: 'auto-approve', why: 'read-only, reversible, confidence 0.95' } });
    const text = status(stored(approval, { status: 'DECIDED', decision: d }));
    expect(text).toContain('Approved automatically at 14:02 (Europe/London) (auto-approve policy)');
    expect(text).toContain('read-only, reversible, confidence 0.95');
  });

  it('shows a hold', () => {
    const text = status(stored(approval, { heldUntil: '2025-06-04T08:00:00.000Z' }));
    expect(text).toContain('On hold until Wed 4 Jun 09:00 (Europe/London), outside business hours');
  });
});

// ---------- the email ----------

describe('review email', () => {
  const email = (row: StoredRequest) => renderReviewEmail({ request: row, group, now: NOW, link: LINK, approver: 'lead@example.com' });

  it('has the subject, the compact card, a button per decision and one link to the page', () => {
    const { subject, html, text } = email(stored(approval));
    expect(subject).toBe('Refund $350 O-9421 · irreversible · customer-support-agent');
    for (const body of [textOf(html).replace(/\s+/g, ' '), text]) {
      expect(body).toContain('refund("order_id": "O-9421", "amount_usd": 350)');
      expect(body).toContain('3 of 4');
      expect(body).toContain('financial · irreversible');
      expect(body).toContain('expires in 27 min (14:30 Europe/London)');
      expect(body).toContain('waiting 3 min');
      expect(body).toContain('Review and decide');
    }
    const anchors = tags(html).filter((t) => t.name === 'a');
    // Each button opens the page with its choice armed; the choice is outside the signature.
    expect(anchors.map((a) => a.attrs.href)).toEqual([`${LINK}&choice=approve`, `${LINK}&choice=deny`, `${LINK}&choice=escalate`, LINK]);
    for (const a of anchors) expect(a.attrs).toMatchObject({ target: '_blank', rel: 'noopener noreferrer' });
    expect(textOf(html)).toContain('Approve refund · $350 · O-9421 · irreversible');
    expect(textOf(html)).toContain('⚠ Irreversible');
    expect(html).toMatch(/<main[\s>]/);
    expect(text.match(/https?:\/\/\S+/g)).toEqual([LINK, `${LINK}&choice=approve`, `${LINK}&choice=deny`, `${LINK}&choice=escalate`]);
    expect(text.split('\n')).toContain(LINK);
    expect(text.startsWith('[APPROVAL NEEDED] Refund $350 O-9421\n')).toBe(true);
    expect(text).toContain('\nAction: refund("order_id": "O-9421", "amount_usd": 350)\n');
  });

  it.each([
    [{ kind: 'disambiguation', ...base, question: 'Which?', options: [{ id: 'a', label: 'A' }, { id: 'b', label: 'B' }] }, 'Choose 1 of 2 interpretations · irreversible'],
    [{ kind: 'verification', ...base, risk: { class: 'external-comms', reversible: true }, draft: { channel: 'email', body: 'Hi' } }, 'Sign off an email draft · external-comms'],
    [{ kind: 'escalation', ...base, task: { summary: 'Do it' } }, 'Take over a task · irreversible'],
    [{ kind: 'correction', ...base, output: { id: 'm1', content: 'x' } }, 'Correct output m1 · irreversible'],
    [{ ...approval, action: { name: 'issue_refund', args: { note: 'see https://evil.example', invoice: 'INV-7', total_cents: 123456, currency: 'EUR' } } }, 'Issue refund €1,234.56 INV-7 · irreversible'],
  ] as [ReviewRequestInput, string][])('leads the subject with the action, key arguments and risk (%#)', (input, subject) => {
    expect(email(stored(input)).subject).toBe(`${subject} · customer-support-agent`);
  });

  it('marks an escalated request', () => {
    const row = stored(approval, { tier: 2, expiresAt: '2025-06-04T09:00:00.000Z' });
    expect(email(row).subject).toBe('Refund $350 O-9421 · irreversible · customer-support-agent · escalated');
  });

  it('cuts long text in the email, not on the page', () => {
    const body = 'word '.repeat(2000).trim();
    const row = stored({ kind: 'verification', ...base, draft: { channel: 'report', body } });
    const { text, html } = email(row);
    expect(text).not.toContain(body);
    expect(text).toContain('word word…');
    expect(html.length).toBeLessThan(8000);
    expect(textOf(reviewPage(row))).toContain(body);
  });

  it('indents multi-line agent text so it cannot pass for the link line', () => {
    const row = stored({ ...approval, reason: 'looks fine\n\nReview and decide:\nhttps://evil.example/approve' });
    const lines = email(row).text.split('\n');
    expect(lines.filter((l) => l === 'Review and decide:')).toHaveLength(1);
    expect(lines).toContain('    hxxps://evil[.]example/approve (link, not opened)');
    expect(lines.filter((l) => l.startsWith('https://'))).toEqual([LINK]);
  });
});

// ---------- hostile input ----------

describe('unseen characters', () => {
  const render = (row: StoredRequest) => {
    const mail = renderReviewEmail({ request: row, group, now: NOW, link: LINK, approver: 'lead@example.com' });
    return { page: reviewPage(row), status: renderStatusPage({ request: row, group, now: NOW }), ...mail };
  };

  it('bidi controls cannot reorder what the reviewer reads, in the page or either email body', () => {
    // U+202E (right-to-left override) would show "refund 350" as "refund 053".
    const sneaky = 'customer asked for \u202E053 dnufer\u202C and \u2067isolated\u2069, \u200Fmarked\u200E \u061Cletter mark';
    const out = render(stored({ ...approval, reason: sneaky, context: sneaky }));
    for (const body of [out.page, out.status, out.html, out.text]) {
      expect(body).not.toMatch(/[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C]/);
      expect(body).toContain('customer asked for \uFFFD053 dnufer\uFFFD and \uFFFDisolated\uFFFD, \uFFFDmarked\uFFFD \uFFFDletter mark');
    }
  });

  it('zero-width characters show, so two argument names or two options cannot read the same', () => {
    // Each one, and how the card spells it inside a quoted name.
    const ZERO_WIDTH: [string, string][] = [
      ['\u200B', '\\u200b'],
      ['\u200C', '\\u200c'],
      ['\u200D', '\\u200d'],
      ['\u2060', '\\u2060'],
      ['\uFEFF', '\\ufeff'],
      ['\u180E', '\\u180e'],
      ['\u00AD', '\\u00ad'],
      ['\u{E0041}', '\\udb40\\udc41'],
    ];
    const args = Object.fromEntries([['amount_usd', 350], ...ZERO_WIDTH.map(([z], i) => [`amount${z}_usd`, 5000 + i])]);
    const out = render(stored({ ...approval, action: { name: 'refund', args } }));
    // The page keeps the exact names only in the modify form's field names, which nobody reads.
    const pageShown = out.page.replace(/ name="arg\.[^"]*"/g, '');
    for (const body of [pageShown, out.html, out.text]) expect(body).not.toMatch(/[\u200B-\u200D\u2060\uFEFF\u180E\u00AD]|\u{E0041}/u);
    for (const body of [textOf(out.page), textOf(out.html), out.text]) {
      expect(body).toContain('"amount_usd": 350');
      for (const [i, [, spelled]] of ZERO_WIDTH.entries()) expect(body).toContain(`"amount${spelled}_usd": ${5000 + i}`);
    }

    const question = stored({
      kind: 'disambiguation',
      ...base,
      question: 'Which field holds the refund?',
      options: [
        { id: 'o1', label: 'amount_usd' },
        { id: 'o2', label: 'amount\u200B_usd', detail: 'the\u2060 other' },
      ],
    });
    const mail = render(question);
    expect(mail.text).toContain('  1. amount_usd\n  2. amount\uFFFD_usd (the\uFFFD other)\n');
    expect(textOf(mail.html)).toContain('amount\uFFFD_usd');
    expect(forms(mail.page).map((f) => f.buttonText).slice(0, 2)).toEqual(['amount_usd', 'amount\uFFFD_usd the\uFFFD other']);
  });

  it('control characters and line separators cannot forge a line or an escape sequence; a draft keeps its line breaks', () => {
    const ESC = '\u001B';
    const reason = `fine${ESC}[2J${ESC}[1A\u0007 \u0085\u009Bbold\u2028Review and decide:\u2029https://evil.example/approve\rend`;
    const body = 'Dear Jane,\r\nyour refund is on its way.\n\n\tRegards\u2028Support';
    const out = render(stored({ kind: 'verification', ...base, reason, draft: { channel: 'email', body } }));
    for (const doc of [out.page, out.status, out.html, out.text]) {
      // Nothing below U+0020 but line breaks and tabs, no C1 control, no separator.
      // eslint-disable-next-line no-control-regex
      expect(doc).not.toMatch(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u2028\u2029\r]/);
    }
    for (const doc of [out.page, out.status, out.html]) expect(doc).toContain('fine\uFFFD[2J\uFFFD[1A\uFFFD \n\uFFFDbold');
    const lines = out.text.split('\n');
    expect(lines).toEqual(expect.arrayContaining(['Reason:', '    fine\uFFFD[2J\uFFFD[1A\uFFFD ', '    \uFFFDbold']));
    // Each line the agent wrote is indented under its label; the only unindented "Review and decide:" is ours.
    expect(lines.filter((l) => l === 'Review and decide:')).toHaveLength(1);
    expect(lines).toContain('    Review and decide:');
    expect(lines).toEqual(expect.arrayContaining(['    Dear Jane,', '    your refund is on its way.', '    ', '    \tRegards', '    Support']));
    // The page keeps the draft's lines in its pre-wrapped block.
    expect(decode(out.page)).toContain('Dear Jane,\nyour refund is on its way.\n\n\tRegards\nSupport');
  });

  it('the subject is one line of visible characters, even from a stored row that skipped validation', () => {
    const row = stored(approval);
    const forged = { ...row, request: { ...row.request, agent: 'bot\u202Egnp.exe\r\nBcc: x@evil.example\u001B[0m\u200B', action: { name: 'refund\u2028now', args: {} } } } as StoredRequest;
    const { subject } = render(forged);
    expect(subject).toBe('Refund now · irreversible · bot\uFFFDgnp.exe Bcc: x@evil.example\uFFFD[0m\uFFFD');
  });
});

describe('arguments in the email', () => {
  const email = (row: StoredRequest) => renderReviewEmail({ request: row, group, now: NOW, link: LINK, approver: 'lead@example.com' });
  const long = (c: string) => c.repeat(120);

  it('says how many arguments the Action line leaves out instead of hiding them', () => {
    const args = { [`${long('a')}_id`]: 'O-1', [`${long('b')}_note`]: 'x', [`${long('c')}_flag`]: true, amount_usd: 5000 };
    const row = stored({ ...approval, action: { name: 'refund', args } });
    const { text, html } = email(row);
    const action = text.split('\n').find((l) => l.startsWith('Action:'));
    expect(action).toBe(`Action: refund("${long('a')}_id": "O-1", …) and 3 more arguments: open the page`);
    expect(textOf(html)).toContain('…) and 3 more arguments: open the page');
    // The page says the same and lists every argument, the one that matters included.
    const page = textOf(reviewPage(row)).replace(/\s+/g, ' ');
    expect(page).toContain('…) and 3 more arguments: all are listed below');
    expect(page).toContain('"amount_usd" 5000');
  });

  it('says so when not even the first argument fits, and says nothing when all do', () => {
    const name = `x.${long('n')}`;
    const row = stored({ ...approval, action: { name, args: { [`${long('k')}_maximum`]: 1, amount_usd: 5000 } } });
    expect(email(row).text).toContain(`Action: ${name}(…) and 2 more arguments: open the page\n`);
    expect(email(stored(approval)).text).toContain('\nAction: refund("order_id": "O-9421", "amount_usd": 350)\n');
  });

  it('quotes argument names, so a look-alike name differs', () => {
    const args = { amount_usd: 350, '\u0430mount_usd': 5000, 'amount_usd ': 7000 };
    const { text } = email(stored({ ...approval, action: { name: 'refund', args } }));
    expect(text).toContain('Action: refund("amount_usd": 350, "\\u0430mount_usd": 5000, "amount_usd ": 7000)\n');
  });

  it('the modify form posts an argument\'s exact name back, whatever it shows', () => {
    const args = { amount_usd: 350, 'amount\u200B_usd': 5000 };
    const page = reviewPage(stored({ ...approval, action: { name: 'refund', args } }));
    const modify = forms(page).find((f) => f.fields.choice === 'modify')!;
    expect(Object.keys(modify.fields).filter((k) => k.startsWith('arg.'))).toEqual(['arg.amount_usd', 'arg.amount\u200B_usd']);
    expect(parseResponseForm(modify.fields)).toMatchObject({ choice: 'modify', args: { amount_usd: '350', 'amount\u200B_usd': '5000' } });
    expect(textOf(page).replace(/\s+/g, ' ')).toContain('"amount\\u200b_usd" (number)');
  });
});

describe('links in agent text', () => {
  const URLS = 'see https://evil.example/approve?x=1, www.evil.example/a and evil.com/b.';
  const SHOWN = 'see hxxps://evil[.]example/approve?x=1 (link, not opened), www[.]evil[.]example/a (link, not opened) and evil[.]com/b (link, not opened).';
  const requests: ReviewRequestInput[] = [
    { ...approval, reason: URLS, context: URLS, action: { name: 'refund', args: { note: URLS, [URLS]: 1 } } },
    { kind: 'disambiguation', ...base, reason: URLS, question: URLS, options: [{ id: 'o1', label: URLS, detail: URLS }, { id: 'o2', label: 'no link' }] },
    { kind: 'verification', ...base, reason: URLS, draft: { channel: 'email', title: URLS, body: URLS, audience: URLS } },
    { kind: 'escalation', ...base, reason: URLS, task: { summary: URLS, attempts: URLS } },
    { kind: 'correction', ...base, reason: URLS, output: { id: URLS, content: URLS }, issue: URLS },
  ];

  for (const input of requests) {
    it(`${input.kind}: shown defanged and marked in the page and both emails, never as a link`, () => {
      const row = stored(input);
      const page = reviewPage(row);
      const status = renderStatusPage({ request: { ...row, status: 'DECIDED', decision: decision({ outcome: 'denied', reason: URLS, comment: URLS }) }, group, now: NOW });
      const mail = renderReviewEmail({ request: row, group, now: NOW, link: LINK, approver: 'lead@example.com' });
      expectInert(page, { formAction: LINK });
      expectInert(status);
      expectInert(mail.html, { link: LINK });
      // The forms hold the exact text (see the next test); everything else is what the reviewer reads.
      const withoutForms = (doc: string) => doc.replace(/<form\b[\s\S]*?<\/form>/g, '');
      for (const text of [textOf(withoutForms(page)), textOf(status), textOf(mail.html), mail.text]) {
        // Every field that held the links shows them defanged (the Action line cuts long values).
        expect(text.split(SHOWN).length - 1).toBeGreaterThanOrEqual(2);
        expect(text).not.toMatch(/https:\/\/evil|www\.evil|evil\.com/);
      }
      // The only URLs are the personal link and the same link with a choice armed.
      expect(new Set(mail.text.match(/https?:\/\/\S+/g)?.map((u) => u.replace(/&choice=[a-z]+$/, '')))).toEqual(new Set([LINK]));
      expect(mail.subject).not.toContain('evil');
    });
  }

  it('stay exact in the fields a reviewer edits and sends back', () => {
    const page = reviewPage(stored({ kind: 'verification', ...base, draft: { channel: 'email', body: URLS } }));
    expect(forms(page).find((f) => f.fields.choice === 'modify')?.fields.draftBody).toBe(URLS);
  });
});

describe('agent- and reviewer-supplied text renders inert', () => {
  const PAYLOAD = `<script>alert(1)</script>"><img src=x onerror=alert(1)>javascript:alert(1)</textarea><script>alert(2)</script>'"\`&amp;`;
  const x = (field: string) => `[${field}]${PAYLOAD}`;

  const hostile: ReviewRequestInput[] = [
    {
      kind: 'approval',
      ...base,
      reason: x('reason'),
      context: x('context'),
      action: { name: 'refund', args: { [x('argkey')]: x('argval'), nested: { [x('nestedkey')]: [x('nestedval')] } } },
    },
    {
      kind: 'disambiguation',
      ...base,
      reason: x('reason'),
      question: x('question'),
      options: [
        { id: 'o1', label: x('label1'), detail: x('detail1') },
        { id: 'o2', label: x('label2') },
      ],
    },
    { kind: 'verification', ...base, reason: x('reason'), draft: { channel: 'email', title: x('title'), body: x('body'), audience: x('audience') } },
    { kind: 'escalation', ...base, reason: x('reason'), task: { summary: x('summary'), attempts: x('attempts') } },
    { kind: 'correction', ...base, reason: x('reason'), output: { id: x('outputid'), content: x('content') }, issue: x('issue') },
  ];

  const hostileDecision = decision({
    outcome: 'modified',
    decidedBy: x('decidedBy'),
    reason: x('dreason'),
    comment: x('comment'),
    proposedArgs: { a: 1 },
    approvedArgs: { a: x('approvedarg') },
    chosenOption: { id: 'o1', label: x('chosen') },
    editedDraft: { channel: 'email', title: x('edtitle'), body: x('edbody') },
    result: x('result'),
    correctedOutput: x('corrected'),
    correctionCategory: x('category'),
  });
  const history = [{ tier: 2, tierName: x('tierName'), at: '2025-06-03T12:30:00.000Z', why: x('why') }];

  /** Fields whose text the reader must see, unchanged, once decoded. */
  function expectedTexts(input: ReviewRequestInput): string[] {
    const fields = Object.entries(JSON.parse(JSON.stringify(input)) as object)
      .flatMap(function walk([, v]): string[] {
        if (typeof v === 'string') return v.startsWith('[') ? [v] : [];
        if (v && typeof v === 'object') return Object.entries(v).flatMap(walk);
        return [];
      })
      .filter((v) => !v.startsWith('[argval]') && !v.startsWith('[nestedval]'));
    return fields;
  }

  for (const input of hostile) {
    it(`${input.kind}: review page, status page and email`, () => {
      const row = stored(input, { history });
      const page = reviewPage(row, { notice: x('notice'), approver: x('approver') });
      expectInert(page, { formAction: LINK });
      const pageText = textOf(page);
      for (const t of [...expectedTexts(input), x('notice'), x('approver'), x('tierName'), x('why')]) expect(pageText).toContain(t);
      if (input.kind === 'approval') {
        expect(pageText).toContain(JSON.stringify(x('argval')));
        expect(pageText).toContain(JSON.stringify(x('argkey')));
        expect(pageText).toContain(JSON.stringify(x('nestedkey')));
        // The modify field carries the raw string back.
        expect(forms(page).find((f) => f.fields.choice === 'modify')?.fields[`arg.${x('argkey')}`]).toBe(x('argval'));
      }

      const statusPage = renderStatusPage({ request: { ...row, status: 'DECIDED', decision: hostileDecision }, group, now: NOW, approver: x('approver'), notice: x('notice') });
      expectInert(statusPage);
      const statusText = textOf(statusPage);
      for (const f of ['decidedBy', 'dreason', 'comment', 'chosen', 'edtitle', 'edbody', 'result', 'corrected', 'category', 'notice']) {
        expect(statusText).toContain(x(f));
      }
      for (const t of expectedTexts(input)) expect(statusText).toContain(t);

      const mail = renderReviewEmail({ request: row, group, now: NOW, link: LINK, approver: x('approver') });
      expectInert(mail.html, { link: LINK });
      const mailText = textOf(mail.html);
      for (const t of [...expectedTexts(input), x('approver')]) expect(mailText).toContain(t);
      // text/plain is not markup: the reviewer sees exactly what the agent sent.
      for (const t of expectedTexts(input)) expect(mail.text).toContain(t);
      expect(mail.subject).not.toMatch(/[<>"'\n]/);
    });
  }

  it('error page escapes its title and message', () => {
    const page = renderErrorPage(403, x('title'), x('message'));
    expectInert(page);
    expect(textOf(page)).toContain(x('title'));
    expect(textOf(page)).toContain(x('message'));
  });

  it('never renders the task token or the execution ARN', () => {
    for (const input of [approval, ...hostile]) {
      const row = stored(input, { history });
      const outputs = [
        reviewPage(row),
        renderStatusPage({ request: row, group, now: NOW, approver: 'lead@example.com' }),
        renderStatusPage({ request: { ...row, status: 'DECIDED', decision: hostileDecision }, group, now: NOW }),
        ...Object.values(renderReviewEmail({ request: row, group, now: NOW, link: LINK, approver: 'lead@example.com' })),
      ];
      for (const out of outputs) {
        expect(out).not.toContain(TOKEN);
        expect(out).not.toContain('task-token');
        expect(out).not.toContain(row.executionArn);
      }
    }
  });
});
