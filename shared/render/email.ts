/**
 * The review email: the compact card, one button per decision and a "Review and decide" link to the page.
 * Never one-click decision links: every button opens the page (mail scanners prefetch links) with that
 * choice armed (`&choice=approve`, outside the signature: it only picks which section opens), and one
 * more tap on the page commits it. Two taps from the inbox to a decision, none by a prefetch.
 */
import type { Choice } from '../schemas/response-form.ts';
import { buildCard, type Card, type CardInput } from './card.ts';
import { EMAIL_FRAME_STYLES } from './email-styles.ts';
import { effectiveRisk, riskWord, type BadgeTone } from './headline.ts';
import { html, type SafeHtml } from './html.ts';
import { inertLine, neutralize } from './inert-text.ts';

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
  ...EMAIL_FRAME_STYLES,
  table: 'border-collapse:collapse;width:100%;margin-top:8px;',
  th: 'text-align:left;vertical-align:top;padding:6px 12px 6px 0;color:#59636e;font-weight:400;white-space:nowrap;border-top:1px solid #eceef1;',
  td: 'vertical-align:top;padding:6px 0;border-top:1px solid #eceef1;word-break:break-word;',
  long: 'white-space:pre-wrap;',
  button: 'display:inline-block;font-weight:600;text-decoration:none;padding:12px 18px;border-radius:8px;margin:0 8px 8px 0;border:1px solid #1c2128;',
  badge: 'display:inline-block;font-size:13px;font-weight:700;padding:1px 9px;border-radius:999px;margin:0 6px 4px 0;border:1px solid currentColor;',
};

const BUTTON_TONE = { primary: 'background:#1a7f4b;color:#ffffff;border-color:#1a7f4b;', danger: 'background:#b42318;color:#ffffff;border-color:#b42318;', plain: 'background:#ffffff;color:#1c2128;' };
const BADGE_TONE: Record<BadgeTone, string> = { danger: 'background:#fde8e7;color:#8c1d13;', caution: 'background:#fff4d6;color:#6b4700;', neutral: 'background:#eceef1;color:#3b434c;' };
const BADGE_MARK: Record<BadgeTone, string> = { danger: '⚠ ', caution: '', neutral: '' };

// Opened in a new tab: the review page refuses to be framed, and a mail viewer that frames the email would
// otherwise show "refused to connect".
const NEW_TAB = html`target="_blank" rel="noopener noreferrer"`;

interface EmailAction {
  choice: Choice;
  label: string;
  tone: keyof typeof BUTTON_TONE;
}

/** The decisions the email offers as buttons, each opening the page with that choice armed. */
export function emailActions(card: Card): EmailAction[] {
  switch (card.kind) {
    case 'approval':
      return [
        { choice: 'approve', label: card.approveLabel, tone: 'primary' },
        { choice: 'deny', label: 'Deny…', tone: 'danger' },
        ...(card.nextTierName ? [{ choice: 'escalate' as const, label: `Escalate to ${card.nextTierName}…`, tone: 'plain' as const }] : []),
      ];
    case 'verification':
      return [
        { choice: 'approve', label: card.approveLabel, tone: 'primary' },
        { choice: 'deny', label: 'Reject…', tone: 'danger' },
      ];
    case 'disambiguation':
      return [{ choice: 'deny', label: 'None of these…', tone: 'danger' }];
    case 'escalation':
      return [
        { choice: 'resolve', label: 'Resolve…', tone: 'primary' },
        { choice: 'deny', label: 'Decline…', tone: 'danger' },
      ];
    case 'correction':
      return [
        { choice: 'correct', label: 'Correct it…', tone: 'primary' },
        { choice: 'deny', label: 'The output is fine…', tone: 'danger' },
      ];
  }
}

/** The personal link with a choice armed; the choice is not signed, since it decides nothing. */
export function armedLink(link: string, choice: Choice): string {
  return `${link}${link.includes('?') ? '&' : '?'}choice=${choice}`;
}

/** "Refund $350 O-9421 · irreversible · customer-support-agent": action, key arguments, risk, agent. */
export function emailSubject(input: CardInput): string {
  const row = input.request;
  const card = buildCard(input);
  const escalated = row.tier > 1 ? ' · escalated' : '';
  return inertLine(`${card.title} · ${riskWord(effectiveRisk(row))} · ${row.request.agent}${escalated}`);
}

function htmlBody(card: Card, input: ReviewEmailInput, subject: string): string {
  const rows = card.facts.map(
    (f) => html`<tr><th scope="row" style="${S.th}">${f.label}</th><td style="${f.long ? S.td + S.long : S.td}">${f.value}</td></tr>`,
  );
  const options: SafeHtml | string = card.options
    ? html`<h2 style="margin:12px 0 4px;font-size:15px;">Options</h2><ol style="margin:0;padding-left:20px;">${card.options.map(
        (o) => html`<li>${o.label}${o.detail ? html`<br><span style="${S.small}">${o.detail}</span>` : ''}</li>`,
      )}</ol>`
    : '';
  const history = card.history.length
    ? html`<h2 style="margin:12px 0 4px;font-size:15px;">History</h2><ul style="margin:0;padding-left:20px;">${card.history.map((h) => html`<li>${h}</li>`)}</ul>`
    : '';
  const badges = html`<p style="margin:0 0 4px;">${card.badges.map((b) => html`<span style="${S.badge}${BADGE_TONE[b.tone]}">${BADGE_MARK[b.tone]}${b.text}</span>`)}</p>`;
  const buttons = emailActions(card).map(
    (a) => html`<a href="${armedLink(input.link, a.choice)}" ${NEW_TAB} style="${S.button}${BUTTON_TONE[a.tone]}">${a.label}</a>`,
  );
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${subject}</title></head>
<body style="${S.body}">
<main style="${S.wrap}">
<article style="${S.card}" aria-labelledby="hitl-title">
<p style="${S.kind}">${card.heading}</p>
<h1 id="hitl-title" style="${S.h1}">${card.title}</h1>
${badges}
<p style="margin:0 0 12px;${S.small}">${card.agent} · ${card.timeLeft} · ${card.waiting}</p>
<nav aria-label="Decide">${buttons}</nav>
<p style="${S.small}">Each button opens the request with that choice ready; nothing is decided until you confirm it there.</p>
<h2 style="margin:16px 0 4px;font-size:15px;">Details</h2>
<p style="margin:0 0 8px;">${card.lead}</p>
<table role="presentation" style="${S.table}">${rows}</table>
${options}
${history}
<p style="margin:20px 0 8px;"><a href="${input.link}" ${NEW_TAB} style="${S.button}${BUTTON_TONE.plain}">Review and decide</a></p>
</article>
</main>
<footer style="max-width:560px;margin:0 auto;padding:0 16px 16px;font-family:system-ui,-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;"><p style="${S.small}">This link is personal to ${input.approver}: do not forward it. Opening it only shows the request; nothing is decided until you choose on the page.</p></footer>
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
  const out: string[] = [`[${card.heading.toUpperCase()}] ${card.title}`, `Risk: ${card.badges.map((b) => b.text).join(' · ')}`, card.lead, ''];
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
  out.push('Or open it with a choice ready (nothing is decided until you confirm on the page):');
  for (const a of emailActions(card)) out.push(`  ${a.label.replace(/…$/, '')}: ${armedLink(input.link, a.choice)}`);
  out.push('');
  out.push(`This link is personal to ${input.approver}: do not forward it. Opening it only shows the request;`);
  out.push('nothing is decided until you choose on the page.');
  return `${out.join('\n')}\n`;
}

export function renderReviewEmail(input: ReviewEmailInput): ReviewEmail {
  const card = buildCard(input, { maxText: EMAIL_MAX_TEXT, moreArgsAt: 'open the page' });
  const subject = emailSubject(input);
  return { subject, html: htmlBody(card, input, subject), text: textBody(card, input) };
}
