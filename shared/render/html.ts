/**
 * HTML built with a tagged template that escapes every interpolated value unless it is already `SafeHtml`.
 * Escaping is the default, so agent- or reviewer-supplied text cannot become markup by forgetting a call,
 * and it neutralizes unseen characters (inert-text.ts), so such text cannot change how the page reads.
 */
import { neutralize } from './inert-text.ts';

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escape text for use in element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return escapeMarkup(neutralize(text, { multiline: true }));
}

function escapeMarkup(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ENTITIES[c] ?? c);
}

function interpolate(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(interpolate).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += interpolate(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}

/**
 * Text a program reads back and nobody reads, such as a form field's name: markup is escaped but every
 * character is kept, so the post carries exactly the key it was rendered for.
 */
export function verbatim(text: string): SafeHtml {
  return new SafeHtml(escapeMarkup(text));
}

/** Markup that is trusted as written (constant strings of this module's own templates). */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}
