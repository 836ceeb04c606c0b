/**
 * The outcome notice: a short email telling the others who were asked that a request has ended and how
 * ("Approved by lead@example.com at 14:02"), so nobody opens a request that is no longer theirs to decide.
 * No links: it asks nothing of its reader.
 */
import { buildCard, type CardInput } from './card.ts';
import { html } from './html.ts';
import { inertLine } from './inert-text.ts';
import { describeStatus } from './status.ts';

export interface OutcomeEmail {
  subject: string;
  html: string;
  text: string;
}

const S = {
  body: 'margin:0;padding:0;background:#f5f6f8;',
  wrap: 'max-width:560px;margin:0 auto;padding:16px;font-family:system-ui,-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;font-size:15px;line-height:1.5;color:#1c2128;',
  card: 'background:#ffffff;border:1px solid #d8dce2;border-radius:12px;padding:16px;',
  kind: 'margin:0;font-size:12px;font-weight:600;letter-spacing:.06em;text-transform:uppercase;color:#59636e;',
  h1: 'margin:4px 0 8px;font-size:20px;line-height:1.3;',
  small: 'font-size:13px;color:#59636e;',
};

export function renderOutcomeEmail(input: CardInput): OutcomeEmail {
  const card = buildCard(input, { live: false, maxText: 300 });
  const status = describeStatus(input);
  const reason = input.request.decision?.reason;
  const subject = inertLine(`${status.headline}: ${card.title} · ${input.request.request.agent}`);
  const body = html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${subject}</title></head>
<body style="${S.body}">
<main style="${S.wrap}">
<article style="${S.card}" aria-labelledby="hitl-title">
<p style="${S.kind}">${card.heading} · closed</p>
<h1 id="hitl-title" style="${S.h1}">${status.headline}</h1>
<p style="margin:0 0 8px;">${card.title} — ${card.lead}</p>
${reason ? html`<p style="margin:0 0 8px;">Reason: ${reason}</p>` : ''}
<p style="${S.small}">You were asked too; nothing is needed from you now. Request ${input.request.requestId}.</p>
</article>
</main>
</body>
</html>
`.value;
  const text = [`[CLOSED] ${status.headline}`, `${card.title} — ${card.lead}`, ...(reason ? [`Reason: ${inertLine(reason)}`] : []), '', `You were asked too; nothing is needed from you now. Request ${input.request.requestId}.`, ''].join('\n');
  return { subject, html: body, text };
}
