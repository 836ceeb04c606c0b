/**
 * HTML built with a tagged template that escapes every interpolated value unless it is already `SafeHtml`.
 * Escaping is the default, so agent- or reviewer-supplied text cannot become markup by forgetting a call.
 */

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

/**
 * Bidi embedding, override and isolate controls let text reorder how it reads ("refund 350" shown as
 * "refund 053"). Reviewers must see what the agent sent, so they are shown as U+FFFD instead.
 */
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

export function neutralizeBidi(text: string): string {
  return text.replace(BIDI_CONTROLS, '\uFFFD');
}

/** Escape text for use in element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return neutralizeBidi(text).replace(/[&<>"'`]/g, (c) => ENTITIES[c] ?? c);
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

/** Markup that is trusted as written (constant strings of this module's own templates). */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}
