/**
 * The outcome notice: a short email telling the others who were asked that a request has ended and how
 * ("Approved by lead@example.com at 14:02"), so nobody opens a request that is no longer theirs to decide.
 * No links: it asks nothing of its reader.
 */
import { buildCard, type CardInput } from './card.ts';
import { EMAIL_FRAME_STYLES } from './email-styles.ts';
import { html } from './html.ts';
import { inertLine } from './inert-text.ts';
import { describeStatus } from './status.ts';

export interface OutcomeEmail {
  subject: string;
  html: string;
  text: string;
}

const S = EMAIL_FRAME_STYLES;

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
