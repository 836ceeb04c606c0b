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
import { cardHead, cardSection, notice, page } from './layout.ts';

export interface ReviewPageInput extends CardInput {
  /** Who the link belongs to. */
  approver: string;
  /** The signed URL to post to: the same path and query as the GET. */
  formAction: string;
  /** A next tier exists and the kind accepts `escalate`. */
  canEscalate: boolean;
  /** Shown above the card, e.g. a validation error from a previous post. */
  notice?: string;
  /** The choice the reviewer picked in the email (`&choice=` on the link): its section opens ready. */
  armed?: Choice;
  /** A post that failed validation: its section reopens with what was typed. */
  retry?: { choice: string; fields: Readonly<Record<string, string>> };
  /** Preset deny reasons for this request (deployment config `denyReasons`). */
  denyReasons?: readonly string[];
}

interface FormContext {
  action: string;
  round: number;
  /** When the page was rendered: posted back as `opened`, so the decision's time on card is known. */
  opened: string;
  armed?: Choice;
  retry?: ReviewPageInput['retry'];
  denyReasons: readonly string[];
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

/** The section of `choice` opens when the email armed it or a post of it came back with an error. */
function isOpen(ctx: FormContext, choice: Choice): boolean {
  return ctx.armed === choice || ctx.retry?.choice === choice;
}

/** What the reviewer typed into `name` of a `choice` form that came back, else the default. */
function typed(ctx: FormContext, choice: Choice, name: string, fallback = ''): string {
  return ctx.retry?.choice === choice ? (ctx.retry.fields[name] ?? fallback) : fallback;
}

function folded(summary: string, content: SafeHtml, open = false): SafeHtml {
  return html`<details${open ? html` open` : ''}><summary>${summary}</summary>${content}</details>`;
}

interface FieldOptions {
  required?: boolean;
  value?: string;
  hint?: string;
  rows?: number;
  autofocus?: boolean;
}

// The newline after <textarea> is dropped by HTML parsers, so a value that starts with one keeps it.
function textArea(id: string, name: string | SafeHtml, label: string, opts: FieldOptions = {}): SafeHtml {
  return html`<label for="${id}">${label}${opts.hint ? html` <span class="hint">${opts.hint}</span>` : ''}</label>
<textarea id="${id}" name="${name}" rows="${opts.rows ?? 4}"${opts.required ? html` required` : ''}${opts.autofocus ? html` autofocus` : ''}>
${opts.value ?? ''}</textarea>`;
}

function textInput(id: string, name: string | SafeHtml, label: string, opts: FieldOptions = {}): SafeHtml {
  return html`<label for="${id}">${label}${opts.hint ? html` <span class="hint">${opts.hint}</span>` : ''}</label>
<input type="text" id="${id}" name="${name}" value="${opts.value ?? ''}"${opts.required ? html` required` : ''}>`;
}

function comment(ctx: FormContext, choice: Choice, id: string): SafeHtml {
  return textArea(id, 'comment', 'Comment', { hint: '(optional)', rows: 2, value: typed(ctx, choice, 'comment') });
}

/** Radio buttons for the deployment's preset reasons; the free-text field adds to or replaces them. */
function presets(ctx: FormContext, choice: Choice, reasons: readonly string[]): SafeHtml {
  if (reasons.length === 0) return html``;
  const picked = typed(ctx, choice, 'preset');
  return html`<fieldset><legend>Pick a reason</legend>${reasons.map(
    (r, i) => html`<label class="choice"><input type="radio" name="preset" value="${r}" id="${choice}-preset-${i}"${picked === r ? html` checked` : ''}> ${r}</label>`,
  )}</fieldset>`;
}

function denyForm(ctx: FormContext, summary: string, button: string, label = 'Why not?'): SafeHtml {
  const withPresets = ctx.denyReasons.length > 0;
  return folded(
    summary,
    form(ctx, 'deny', html`${presets(ctx, 'deny', ctx.denyReasons)}
${textArea('deny-reason', 'reason', label, {
  required: !withPresets,
  hint: withPresets ? '(optional with a reason picked above; the agent reads this)' : '(the agent reads this)',
  value: typed(ctx, 'deny', 'reason'),
  autofocus: isOpen(ctx, 'deny') && !withPresets,
})}
<button type="submit" class="danger">${button}</button>`),
    isOpen(ctx, 'deny'),
  );
}

function escalateForm(ctx: FormContext, tierName: string): SafeHtml {
  return folded(
    `Escalate to ${tierName}…`,
    form(ctx, 'escalate', html`${textArea('escalate-reason', 'reason', 'Why escalate?', { required: true, hint: `(${tierName} read this)`, value: typed(ctx, 'escalate', 'reason'), autofocus: isOpen(ctx, 'escalate') })}
<button type="submit">Escalate to ${tierName}</button>`),
    isOpen(ctx, 'escalate'),
  );
}

/**
 * The one-tap approve. Armed from the email it says so; nothing is focused for it, so the page's first Tab
 * and Enter (the skip link) can never commit an approval.
 */
function approveForm(ctx: FormContext, card: Card, label: string): SafeHtml {
  const button = html`<button type="submit" class="primary${card.irreversible ? ' irreversible' : ''}">${label}</button>`;
  if (ctx.armed !== 'approve') return form(ctx, 'approve', button);
  return html`<div class="armed" id="armed-approve"><p>You chose to approve in the email. One more tap commits it${card.irreversible ? '; it cannot be undone' : ''}.</p>${form(ctx, 'approve', button)}</div>`;
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

function argField(ctx: FormContext, name: string, value: JsonValue, index: number): SafeHtml {
  const id = `arg-${index}`;
  // The field carries the argument's exact name back; its label shows the name quoted, as the card does.
  const field = verbatim(`${ARG_FIELD_PREFIX}${name}`);
  const label = argName(name);
  const text = typed(ctx, 'modify', `${ARG_FIELD_PREFIX}${name}`, argFieldValue(value));
  const multiline = (typeof value === 'object' && value !== null) || (typeof value === 'string' && (value.length > 60 || value.includes('\n')));
  return multiline
    ? textArea(id, field, label, { value: text, hint: argHint(value), rows: Math.min(12, text.split('\n').length + 1) })
    : textInput(id, field, label, { value: text, hint: argHint(value) });
}

function choices(req: ReviewRequest, card: Card, ctx: FormContext, quorum: boolean): SafeHtml[] {
  switch (req.kind) {
    case 'approval':
      // Under a quorum every approval is of the request as proposed: no "modify".
      if (quorum) return [approveForm(ctx, card, card.approveLabel), denyForm(ctx, 'Deny…', 'Deny')];
      return [
        approveForm(ctx, card, card.approveLabel),
        denyForm(ctx, 'Deny…', 'Deny'),
        folded(
          'Modify and approve…',
          form(ctx, 'modify', html`${Object.entries(req.action.args).map(([name, value], i) => argField(ctx, name, value, i))}
${comment(ctx, 'modify', 'modify-comment')}
<button type="submit" class="primary">Approve with changes</button>`),
          isOpen(ctx, 'modify'),
        ),
      ];
    case 'verification':
      if (quorum) return [approveForm(ctx, card, card.approveLabel), denyForm(ctx, 'Reject…', 'Reject')];
      return [
        approveForm(ctx, card, card.approveLabel),
        folded(
          'Edit and approve…',
          form(ctx, 'modify', html`${textInput('draft-title', 'draftTitle', 'Title', { value: typed(ctx, 'modify', 'draftTitle', req.draft.title ?? ''), hint: '(optional)' })}
${textArea('draft-body', 'draftBody', 'Body', { value: typed(ctx, 'modify', 'draftBody', req.draft.body), required: true, rows: 12 })}
${comment(ctx, 'modify', 'modify-comment')}
<button type="submit" class="primary">Approve edited draft</button>`),
          isOpen(ctx, 'modify'),
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
        form(ctx, 'resolve', html`${textArea('resolve-result', 'result', 'What did you do?', { required: true, hint: '(returned to the agent)', value: typed(ctx, 'resolve', 'result'), autofocus: isOpen(ctx, 'resolve') })}
${comment(ctx, 'resolve', 'resolve-comment')}
<button type="submit" class="primary">Mark resolved</button>`),
        denyForm(ctx, 'Decline…', 'Decline'),
      ];
    case 'correction': {
      const category = typed(ctx, 'correct', 'category');
      return [
        form(ctx, 'correct', html`${textArea('correct-output', 'correctedOutput', 'Corrected output', { value: typed(ctx, 'correct', 'correctedOutput', req.output.content), required: true, rows: 10 })}
<label for="correct-category">What was wrong</label>
<select id="correct-category" name="category" required>
<option value="">Choose…</option>
${CORRECTION_CATEGORIES.map((c) => html`<option value="${c}"${category === c ? html` selected` : ''}>${c}</option>`)}
</select>
${comment(ctx, 'correct', 'correct-comment')}
<button type="submit" class="primary">Save correction</button>`),
        denyForm(ctx, 'The output is fine…', 'Keep the output', 'Why is it fine?'),
      ];
    }
  }
}

export function renderReviewPage(input: ReviewPageInput): string {
  const card = buildCard(input);
  const ctx: FormContext = {
    action: input.formAction,
    round: input.request.round,
    opened: input.now.toISOString(),
    armed: input.armed,
    retry: input.retry,
    denyReasons: input.denyReasons ?? [],
  };
  const escalate = input.canEscalate && card.nextTierName ? escalateForm(ctx, card.nextTierName) : '';
  // Head, then the decision, then the details: on a phone the decision is on the first screen.
  const body = html`<a class="skip" href="#details-title">Skip to the request details</a>
${notice(input.notice)}
${cardHead(card, 'card-title')}
<section class="card" aria-labelledby="decide-title">
<h2 id="decide-title">${input.request.kind === 'disambiguation' ? 'Your answer' : 'Your decision'}</h2>
<div class="actions">
${choices(input.request.request, card, ctx, input.request.policy?.quorum !== undefined)}
${escalate}
</div>
<p class="muted">Reviewing as ${input.approver}. Nothing happens until you press a button.</p>
</section>
${cardSection(card, 'details-title', false, true)}
<footer>Request ${input.request.requestId}</footer>`;
  return page(`${card.heading}: ${input.request.agent}`, body);
}
