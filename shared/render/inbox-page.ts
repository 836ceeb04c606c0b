/**
 * The web inbox's pages: ask for a sign-in link, confirm one, and the inbox itself. Plain forms, no script;
 * every signed-in form carries the session's form token.
 */
import { describeRisk } from '../policies/risk.ts';
import { describeBounds, MAX_TRUST_HOURS, type TrustRule } from '../schemas/trust-rule.ts';
import type { Inbox, InboxItem, BulkResult } from '../inbox/inbox.ts';
import { bulkValue } from '../inbox/inbox.ts';
import { headline } from './headline.ts';
import { html, verbatim, type SafeHtml } from './html.ts';
import { notice, page } from './layout.ts';
import { formatDuration, formatTimeLeft } from './time.ts';

/** Field names of the inbox forms. */
export const INBOX_FIELDS = { formToken: 'csrf', item: 'item', signInToken: 't', email: 'email' } as const;

export interface InboxPaths {
  /** POST: email a sign-in link. */
  requestLink: string;
  /** POST: use a sign-in link. */
  signIn: string;
  approve: string;
  trust: string;
  revoke: string;
  signOut: string;
}

export function renderSignInPage(paths: Pick<InboxPaths, 'requestLink'>, message?: string): string {
  return page(
    'Review inbox: sign in',
    html`${notice(message)}<section class="card tone-neutral" aria-labelledby="title">
<p class="kind">Review inbox</p>
<h1 id="title">Sign in</h1>
<p>Enter your reviewer address. If it belongs to a reviewer, we email you a link that signs you in; it works for 15 minutes, once.</p>
<form method="post" action="${paths.requestLink}">
<label for="email">Email address</label>
<input type="text" id="email" name="${INBOX_FIELDS.email}" autocomplete="email" inputmode="email" required maxlength="254">
<button type="submit" class="primary">Email me a sign-in link</button>
</form>
</section>`,
  );
}

export function renderCheckMailPage(): string {
  return page(
    'Review inbox: check your email',
    html`<section class="card tone-neutral" aria-labelledby="title">
<p class="kind">Review inbox</p>
<h1 id="title">Check your email</h1>
<p>If that address belongs to a reviewer, a sign-in link is on its way. It works for 15 minutes, once.</p>
</section>`,
  );
}

export function renderConfirmSignInPage(paths: Pick<InboxPaths, 'signIn'>, token: string, approver: string): string {
  return page(
    'Review inbox: sign in',
    html`<section class="card tone-neutral" aria-labelledby="title">
<p class="kind">Review inbox</p>
<h1 id="title">Sign in as ${approver}</h1>
<form method="post" action="${paths.signIn}">
<input type="hidden" name="${INBOX_FIELDS.signInToken}" value="${verbatim(token)}">
<button type="submit" class="primary">Sign in</button>
</form>
<p class="muted">The link works once: this button uses it.</p>
</section>`,
  );
}

/** The card's own headline ("Refund $350 O-9421"), so the list and the card name a request alike. */
function itemTitle(item: InboxItem): string {
  return headline(item.row.request);
}

function itemRow(item: InboxItem, now: Date): SafeHtml {
  const risk = item.row.policy?.risk;
  const id = `item-${item.row.requestId}`;
  const box = item.bulk
    ? html`<input type="checkbox" id="${id}" name="${INBOX_FIELDS.item}" value="${verbatim(bulkValue(item.row))}" form="bulk">`
    : html``;
  return html`<tr data-request-id="${verbatim(item.row.requestId)}">
<td>${box}</td>
<td><label for="${id}" style="font-weight:400;margin:0"><a href="${item.link}">${itemTitle(item)}</a></label>
<div class="muted">${item.row.agent} · ${item.row.reviewerGroup}${risk ? ` · ${describeRisk(risk)}` : ''}${item.bulk ? '' : ' · decide on its card'}</div>
${item.note ? html`<div class="muted">${item.note}</div>` : ''}</td>
<td>${formatTimeLeft(new Date(now.getTime() + item.timeLeftMs), now)}<div class="muted">waited ${formatDuration(item.waitedMs)}</div></td>
</tr>`;
}

function ruleRow(rule: TrustRule, now: Date, formToken: string, paths: Pick<InboxPaths, 'revoke'>): SafeHtml {
  const active = rule.revokedAt === undefined && Date.parse(rule.expiresAt) > now.getTime();
  const state = rule.revokedAt
    ? `revoked by ${rule.revokedBy ?? 'someone'}`
    : active
      ? formatTimeLeft(new Date(rule.expiresAt), now)
      : 'expired';
  return html`<li data-trust-rule="${verbatim(rule.id)}"><strong>${rule.agent}</strong> may <code>${rule.action}</code> with ${describeBounds(rule.bounds)}
<div class="muted">${rule.id} · by ${rule.createdBy} · ${state}${rule.note ? ` · ${rule.note}` : ''}</div>
${active
  ? html`<form method="post" action="${paths.revoke}"><input type="hidden" name="${INBOX_FIELDS.formToken}" value="${verbatim(formToken)}"><input type="hidden" name="group" value="${verbatim(rule.group)}"><input type="hidden" name="id" value="${verbatim(rule.id)}"><button type="submit" class="danger">Revoke</button></form>`
  : ''}</li>`;
}

export interface InboxPageInput {
  inbox: Inbox;
  now: Date;
  formToken: string;
  paths: InboxPaths;
  notice?: string;
  results?: BulkResult[];
}

export function renderInboxPage(input: InboxPageInput): string {
  const { inbox, now, formToken, paths } = input;
  const token = html`<input type="hidden" name="${INBOX_FIELDS.formToken}" value="${verbatim(formToken)}">`;
  const anyBulk = inbox.items.some((i) => i.bulk);
  const results = input.results?.length
    ? html`<section class="card" aria-labelledby="results"><h2 id="results">Bulk approval</h2><ul>${input.results.map(
        (r) => html`<li data-result="${verbatim(r.requestId)}" data-approved="${r.approved ? 'yes' : 'no'}"><code>${r.requestId}</code>: ${r.message}</li>`,
      )}</ul></section>`
    : '';
  return page(
    'Review inbox',
    html`${notice(input.notice)}${results}<section class="card tone-waiting" aria-labelledby="title">
<p class="kind">Review inbox · ${inbox.approver}</p>
<h1 id="title">${inbox.items.length === 0 ? 'Nothing waits for you' : `${inbox.items.length} waiting for you`}</h1>
<table><thead><tr><th scope="col" style="width:2rem"><span class="muted">Bulk</span></th><th scope="col">Request</th><th scope="col">Time left</th></tr></thead>
<tbody>${inbox.items.map((i) => itemRow(i, now))}</tbody></table>
${anyBulk
  ? html`<form id="bulk" method="post" action="${paths.approve}">${token}<button type="submit" class="primary">Approve selected<span class="detail">Only low-risk, reversible actions can be approved in bulk</span></button></form>`
  : ''}
</section>
<section class="card" aria-labelledby="groups"><h2 id="groups">Your groups</h2>
<table><thead><tr><th scope="col">Group</th><th scope="col">Queue</th><th scope="col">Oldest waiting</th></tr></thead>
<tbody>${inbox.groups.map((g) => html`<tr data-group="${verbatim(g.name)}"><td>${g.name}</td><td>${g.depth} pending</td><td>${g.depth ? formatDuration(g.oldestWaitMs) : '—'}</td></tr>`)}</tbody></table>
</section>
<section class="card" aria-labelledby="trust"><h2 id="trust">Trust rules</h2>
<p class="muted">While a rule is active, matching requests of its group are approved without asking anyone, recorded with the rule and its creator. Never for irreversible actions. Any member of the group can revoke a rule.</p>
${inbox.groups.map((g) => html`<h3>${g.name}</h3>${g.trustRules.length ? html`<ul>${g.trustRules.map((r) => ruleRow(r, now, formToken, paths))}</ul>` : html`<p class="muted">No trust rules.</p>`}`)}
<details><summary>Trust an action for a few hours</summary>
<form method="post" action="${paths.trust}">${token}
<label for="t-group">Group</label><select id="t-group" name="group">${inbox.groups.map((g) => html`<option value="${verbatim(g.name)}">${g.name}</option>`)}</select>
<label for="t-agent">Agent</label><input type="text" id="t-agent" name="agent" required maxlength="128">
<label for="t-action">Action</label><input type="text" id="t-action" name="action" required maxlength="128">
<label for="t-bounds">Argument bounds <span class="hint">e.g. amount_usd &lt;= 50, currency = USD</span></label><input type="text" id="t-bounds" name="bounds" required maxlength="1000">
<label for="t-hours">For how many hours <span class="hint">1 to ${MAX_TRUST_HOURS}</span></label><input type="text" id="t-hours" name="hours" inputmode="numeric" value="4" required>
<label for="t-note">Note <span class="hint">optional</span></label><input type="text" id="t-note" name="note" maxlength="500">
<button type="submit">Create trust rule</button>
</form></details>
</section>
<form method="post" action="${paths.signOut}">${token}<button type="submit">Sign out</button></form>`,
  );
}
