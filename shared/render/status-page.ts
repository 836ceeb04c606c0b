/**
 * The page for a request that is no longer open to this link: decided, expired, escalated past the
 * link's tier, or a link that has itself expired. It says who decided what and when, then shows the card.
 */
import { buildCard, type CardInput } from './card.ts';
import { html } from './html.ts';
import { cardSection, factList, notice, page } from './layout.ts';
import { describeStatus } from './status.ts';

export interface StatusPageInput extends CardInput {
  /** Who the link belongs to, when the link verified. */
  approver?: string;
  /** Shown above the status, e.g. "This link has expired". */
  notice?: string;
}

export function renderStatusPage(input: StatusPageInput): string {
  const status = describeStatus(input);
  const card = buildCard(input, { live: input.request.status === 'PENDING' });
  const body = html`${notice(input.notice)}
<section class="card tone-${status.tone}" aria-labelledby="status-title">
<h2 id="status-title">${status.headline}</h2>
${status.note ? html`<p>${status.note}</p>` : ''}
${factList(status.details)}
</section>
${cardSection(card, 'card-title', true)}
<footer>Request ${input.request.requestId}</footer>`;
  return page(`${status.headline} · ${card.heading}`, body);
}
