/**
 * The review email: the compact card and one "Review and decide" link to the page. Never one-click
 * decision links: opening a link only shows the page (mail scanners prefetch links), the page decides.
 */
import { buildCard, kindHeading, subjectLine, type Card, type CardInput } from './card.ts';
import { html, type SafeHtml } from './html.ts';
import { inertLine, neutralize } from './inert-text.ts';
import { formatZoned } from './time.ts';

export interface ReviewEmailInput extends CardInput {
  /** The reviewer's personal signed link. */
  link: string;
  approver: string;
}

export interface ReviewEmail {
  subject: string;
  html: string;
  text: string;
}

/** Long agent text is cut in the email; the page shows all of it. */
const EMAIL_MAX_TEXT = 600;

// Inline styles only: many mail clients drop <style> blocks.
const S = {
  body: 'margin:0;padding:0;background:#f5f6f8;',
  wrap: 'max-width:560px;margin:0 auto;padding:16px;font-family:system-ui,-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5;color:#1c2128;',
  card: 'background:#ffffff;border:1px solid #d8dce2;border-radius:12px;padding:16px;',
  h1: 'margin:4px 0 8px;font-size:20px;line-height:1.3;',
  table: 'border-collapse:collapse;width:100%;margin-top:8px;',
  th: 'text-align:left;vertical-align:top;padding:6px 12px 6px 0;color:#59636e;font-weight:400;white-space:nowrap;border-top:1px solid #eceef1;',
  td: 'vertical-align:top;padding:6px 0;border-top:1px solid #eceef1;word-break:break-word;',
  long: 'white-space:pre-wrap;',
  button: 'display:inline-block;background:#1a7f4b;color:#ffffff;font-weight:600;text-decoration:none;padding:12px 22px;border-radius:8px;',
  small: 'font-size:13px;color:#59636e;',
};

export function emailSubject(input: CardInput): string {
  const row = input.request;
  const expires = formatZoned(new Date(row.expiresAt), input.group.timeZone, input.now);
  const escalated = row.tier > 1 ? ' (escalated)' : '';
  return inertLine(`${kindHeading(row.kind)}${escalated}: ${subjectLine(row.request)} (expires ${expires})`);
}

function htmlBody(card: Card, input: ReviewEmailInput, subject: string): string {
  const rows = card.facts.map(
    (f) => html`<tr><th scope="row" style="${S.th}">${f.label}</th><td style="${f.long ? S.td + S.long : S.td}">${f.value}</td></tr>`,
  );
  const options: SafeHtml | string = card.options
    ? html`<p style="margin:12px 0 4px;font-weight:600;">Options</p><ol style="margin:0;padding-left:20px;">${card.options.map(
        (o) => html`<li>${o.label}${o.detail ? html`<br><span style="${S.small}">${o.detail}</span>` : ''}</li>`,
      )}</ol>`
    : '';
  const history = card.history.length
    ? html`<p style="margin:12px 0 4px;font-weight:600;">History</p><ul style="margin:0;padding-left:20px;">${card.history.map((h) => html`<li>${h}</li>`)}</ul>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${subject}</title></head>
<body style="${S.body}">
<div style="${S.wrap}">
<div style="${S.card}">
<h1 style="${S.h1}">${card.heading}</h1>
<p style="margin:0 0 8px;">${card.lead}</p>
<table role="presentation" style="${S.table}">${rows}</table>
${options}
${history}
<p style="margin:20px 0 8px;"><a href="${input.link}" style="${S.button}">Review and decide</a></p>
</div>
<p style="${S.small}">This link is personal to ${input.approver}: do not forward it. Opening it only shows the request; nothing is decided until you choose on the page.</p>
</div>
</body>
</html>
`.value;
}

/** Multi-line values are indented under their label, so no line of agent text can pass for one of ours. */
function textValue(value: string): string {
  const lines = neutralize(value, { multiline: true }).split('\n');
  return lines.length === 1 ? ` ${lines[0]}` : `\n${lines.map((l) => `    ${l}`).join('\n')}`;
}

function textBody(card: Card, input: ReviewEmailInput): string {
  const out: string[] = [`[${card.heading.toUpperCase()}]`, card.lead, ''];
  for (const f of card.facts) out.push(`${f.label}:${textValue(f.value)}`);
  if (card.options) {
    out.push('Options:');
    card.options.forEach((o, i) => out.push(`  ${i + 1}. ${o.label.replace(/\s+/g, ' ')}${o.detail ? ` (${o.detail.replace(/\s+/g, ' ')})` : ''}`));
  }
  if (card.history.length) {
    out.push('History:');
    for (const h of card.history) out.push(`  - ${h.replace(/\s+/g, ' ')}`);
  }
  out.push('', 'Review and decide:', input.link, '');
  out.push(`This link is personal to ${input.approver}: do not forward it. Opening it only shows the request;`);
  out.push('nothing is decided until you choose on the page.');
  return `${out.join('\n')}\n`;
}

export function renderReviewEmail(input: ReviewEmailInput): ReviewEmail {
  const card = buildCard(input, { maxText: EMAIL_MAX_TEXT, moreArgsAt: 'open the page' });
  const subject = emailSubject(input);
  return { subject, html: htmlBody(card, input, subject), text: textBody(card, input) };
}
