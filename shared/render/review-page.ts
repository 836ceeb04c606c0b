/**
 * The review page: the card and one form per choice. Every form posts application/x-www-form-urlencoded
 * with the field names of shared/schemas/response-form.ts to the signed link. No JavaScript: `required`
 * does the client-side checks and <details> folds the forms that need typing.
 */
import { ARG_FIELD_PREFIX, CORRECTION_CATEGORIES, type Choice } from '../schemas/response-form.ts';
import type { JsonValue } from '../schemas/json.ts';
import type { ReviewRequest } from '../schemas/review-request.ts';
import { argName, buildCard, formatJson, type Card, type CardInput } from './card.ts';
import { html, verbatim, type HtmlValue, type SafeHtml } from './html.ts';
import { cardSection, notice, page } from './layout.ts';

export interface ReviewPageInput extends CardInput {
  /** Who the link belongs to. */
  approver: string;
  /** The signed URL to post to: the same path and query as the GET. */
  formAction: string;
  /** A next tier exists and the kind accepts `escalate`. */
  canEscalate: boolean;
  /** Shown above the card, e.g. a validation error from a previous post. */
  notice?: string;
}

interface FormContext {
  action: string;
  round: number;
  /** When the page was rendered: posted back as `opened`, so the decision's time on card is known. */
  opened: string;
}

function form(ctx: FormContext, choice: Choice, body: HtmlValue, hidden: Record<string, string> = {}): SafeHtml {
  return html`<form method="post" action="${ctx.action}">
<input type="hidden" name="choice" value="${choice}">
<input type="hidden" name="round" value="${ctx.round}">
<input type="hidden" name="opened" value="${ctx.opened}">
${Object.entries(hidden).map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`)}
${body}
</form>`;
}

function folded(summary: string, content: SafeHtml, open = false): SafeHtml {
  return html`<details${open ? html` open` : ''}><summary>${summary}</summary>${content}</details>`;
}

// The newline after <textarea> is dropped by HTML parsers, so a value that starts with one keeps it.
function textArea(id: string, name: string | SafeHtml, label: string, opts: { required?: boolean; value?: string; hint?: string; rows?: number } = {}): SafeHtml {
  return html`<label for="${id}">${label}${opts.hint ? html` <span class="hint">${opts.hint}</span>` : ''}</label>
<textarea id="${id}" name="${name}" rows="${opts.rows ?? 4}"${opts.required ? html` required` : ''}>
${opts.value ?? ''}</textarea>`;
}

function textInput(id: string, name: string | SafeHtml, label: string, opts: { value?: string; hint?: string; required?: boolean } = {}): SafeHtml {
  return html`<label for="${id}">${label}${opts.hint ? html` <span class="hint">${opts.hint}</span>` : ''}</label>
<input type="text" id="${id}" name="${name}" value="${opts.value ?? ''}"${opts.required ? html` required` : ''}>`;
}

function comment(id: string): SafeHtml {
  return textArea(id, 'comment', 'Comment', { hint: '(optional)', rows: 2 });
}

function denyForm(ctx: FormContext, summary: string, button: string, label = 'Why not?'): SafeHtml {
  return folded(
    summary,
    form(ctx, 'deny', html`${textArea('deny-reason', 'reason', label, { required: true, hint: '(the agent reads this)' })}
<button type="submit" class="danger">${button}</button>`),
  );
}

/** How a proposed argument is pre-filled: strings raw, numbers and booleans as text, objects and arrays as JSON. */
export function argFieldValue(value: JsonValue): string {
  return typeof value === 'string' ? value : formatJson(value, true);
}

function argHint(value: JsonValue): string {
  if (typeof value === 'number') return '(number)';
  if (typeof value === 'boolean') return '(true or false)';
  if (typeof value === 'string') return '(text)';
  return '(JSON)';
}

function argField(name: string, value: JsonValue, index: number): SafeHtml {
  const id = `arg-${index}`;
  // The field carries the argument's exact name back; its label shows the name quoted, as the card does.
  const field = verbatim(`${ARG_FIELD_PREFIX}${name}`);
  const label = argName(name);
  const text = argFieldValue(value);
  const multiline = (typeof value === 'object' && value !== null) || (typeof value === 'string' && (value.length > 60 || value.includes('\n')));
  return multiline
    ? textArea(id, field, label, { value: text, hint: argHint(value), rows: Math.min(12, text.split('\n').length + 1) })
    : textInput(id, field, label, { value: text, hint: argHint(value) });
}

function choices(req: ReviewRequest, card: Card, ctx: FormContext, quorum: boolean): SafeHtml[] {
  switch (req.kind) {
    case 'approval':
      // Under a quorum every approval is of the request as proposed: no "modify".
      if (quorum) return [form(ctx, 'approve', html`<button type="submit" class="primary">Approve</button>`), denyForm(ctx, 'Deny…', 'Deny')];
      return [
        form(ctx, 'approve', html`<button type="submit" class="primary">Approve</button>`),
        denyForm(ctx, 'Deny…', 'Deny'),
        folded(
          'Modify and approve…',
          form(ctx, 'modify', html`${Object.entries(req.action.args).map(([name, value], i) => argField(name, value, i))}
${comment('modify-comment')}
<button type="submit" class="primary">Approve with changes</button>`),
        ),
      ];
    case 'verification':
      if (quorum) return [form(ctx, 'approve', html`<button type="submit" class="primary">Approve as written</button>`), denyForm(ctx, 'Reject…', 'Reject')];
      return [
        form(ctx, 'approve', html`<button type="submit" class="primary">Approve as written</button>`),
        folded(
          'Edit and approve…',
          form(ctx, 'modify', html`${textInput('draft-title', 'draftTitle', 'Title', { value: req.draft.title ?? '', hint: '(optional)' })}
${textArea('draft-body', 'draftBody', 'Body', { value: req.draft.body, required: true, rows: 12 })}
${comment('modify-comment')}
<button type="submit" class="primary">Approve edited draft</button>`),
        ),
        denyForm(ctx, 'Reject…', 'Reject'),
      ];
    case 'disambiguation':
      return [
        // The card's options: labels shown as on the card (inert), ids as sent.
        ...(card.options ?? []).map((o) =>
          form(ctx, 'answer', html`<button type="submit">${o.label}${o.detail ? html`<span class="detail">${o.detail}</span>` : ''}</button>`, { option: o.id }),
        ),
        denyForm(ctx, 'None of these…', 'Send back', 'What is wrong with the options?'),
      ];
    case 'escalation':
      return [
        form(ctx, 'resolve', html`${textArea('resolve-result', 'result', 'What did you do?', { required: true, hint: '(returned to the agent)' })}
${comment('resolve-comment')}
<button type="submit" class="primary">Mark resolved</button>`),
        denyForm(ctx, 'Decline…', 'Decline'),
      ];
    case 'correction':
      return [
        form(ctx, 'correct', html`${textArea('correct-output', 'correctedOutput', 'Corrected output', { value: req.output.content, required: true, rows: 10 })}
<label for="correct-category">What was wrong</label>
<select id="correct-category" name="category" required>
<option value="">Choose…</option>
${CORRECTION_CATEGORIES.map((c) => html`<option value="${c}">${c}</option>`)}
</select>
${comment('correct-comment')}
<button type="submit" class="primary">Save correction</button>`),
        denyForm(ctx, 'The output is fine…', 'Keep the output', 'Why is it fine?'),
      ];
  }
}

export function renderReviewPage(input: ReviewPageInput): string {
  const card = buildCard(input);
  const ctx: FormContext = { action: input.formAction, round: input.request.round, opened: input.now.toISOString() };
  const escalate =
    input.canEscalate && card.nextTierName
      ? form(ctx, 'escalate', html`<button type="submit">Escalate to ${card.nextTierName}</button>`)
      : '';
  const body = html`${notice(input.notice)}
${cardSection(card, 'card-title', false)}
<section class="card" aria-labelledby="decide-title">
<h2 id="decide-title">${input.request.kind === 'disambiguation' ? 'Your answer' : 'Your decision'}</h2>
<p class="muted">Reviewing as ${input.approver}. Nothing happens until you press a button.</p>
<div class="actions">
${choices(input.request.request, card, ctx, input.request.policy?.quorum !== undefined)}
${escalate}
</div>
</section>
<footer>Request ${input.request.requestId}</footer>`;
  return page(`${card.heading}: ${input.request.agent}`, body);
}
