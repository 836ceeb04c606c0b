/**
 * Text from agents and reviewers made safe to show: it reads the same for everyone who sees it and opens
 * nothing. The review page, both email bodies, the subject and the CLI all go through these functions.
 */

/**
 * Characters a reader cannot see or that change how the text around them reads: C0 and C1 controls
 * (ANSI escapes start with one), format characters (bidi embeddings, overrides, isolates and marks,
 * zero-width spaces and joiners, the BOM, tag characters), other default-ignorable code points (Hangul
 * fillers, Mongolian selectors), lone surrogates and the line and paragraph separators.
 */
const UNSEEN = /\r\n|[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/gu;
const LINE_BREAKS = new Set(['\r\n', '\n', '\r', '\u0085', '\u2028', '\u2029']);
/** Variation selectors 1-16 pick emoji or text presentation of the character before them; they stay. */
const VARIATION_SELECTOR = /^[\uFE00-\uFE0F]$/;

export interface NeutralizeOptions {
  /** Keep line breaks (as `\n`) and tabs, for multi-line text; otherwise each becomes a space. */
  multiline?: boolean;
}

/**
 * Every unseen character becomes U+FFFD, so it shows instead of acting: `refund \u202E053` cannot read as
 * "refund 350", and `amount\u200B_usd` cannot pass for `amount_usd`. Line breaks of any spelling become `\n`
 * in multi-line text and a space in one-line text, so no renderer meets a break it does not know.
 */
export function neutralize(text: string, options: NeutralizeOptions = {}): string {
  const multiline = options.multiline ?? false;
  return text.replace(UNSEEN, (c) => {
    if (LINE_BREAKS.has(c)) return multiline ? '\n' : ' ';
    if (c === '\t') return multiline ? c : ' ';
    return VARIATION_SELECTOR.test(c) ? c : '\uFFFD';
  });
}

function unicodeEscape(c: string): string {
  return [...Array(c.length).keys()].map((i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join('');
}

/**
 * JSON a terminal shows as written: the same data (any JSON parser reads back the exact strings), with
 * every unseen character inside a string spelled as a `\uXXXX` escape.
 */
export function printableJson(value: unknown, indent?: number): string {
  const json = JSON.stringify(value, null, indent) ?? 'null';
  // Outside strings JSON has only spaces and the line breaks of the indentation.
  return json.replace(UNSEEN, (c) => (c === '\n' || VARIATION_SELECTOR.test(c) ? c : unicodeEscape(c)));
}

/**
 * An argument name as a JSON string with everything but printable ASCII escaped: `"amount_usd"`, and its
 * look-alikes `"amount\u200b_usd"`, `"\u0430mount_usd"` (Cyrillic a), `"amount_usd "` differ at a glance.
 */
export function quoteKey(key: string): string {
  return JSON.stringify(key).replace(/[^\x20-\x7e]/g, unicodeEscape);
}

/**
 * What counts as a link in shown text: anything with a scheme (`https://`, `ftp://`, …), a `www.` name, and
 * a bare name ending in a top-level domain that mail clients link (`evil.com`, `evil.zip/x`). Other bare
 * names (`report.pdf`, `setup.py`, `crm.update`) are left alone: nothing on our side links them.
 */
const BARE_TLDS =
  'com|net|org|edu|gov|mil|int|info|biz|name|pro|mobi|io|co|ai|app|dev|me|tv|cc|ws|xyz|top|site|online|link|click|shop|store|tech|cloud|live|page|zip|mov|ly|gl|gg|to|sh|uk|de|fr|nl|ru|cn|jp|br|in|it|es|pl|au|ca|eu|us|ch|se|no|be|at|dk|fi|ie|nz';
const LABEL = String.raw`[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?`;
const REST = String.raw`[^\s<>"]*`;
const URL_LIKE = new RegExp(
  [
    String.raw`\b[a-z][a-z0-9+.-]*://${REST}`,
    String.raw`(?<![\p{L}\p{N}._-])www\.${REST}`,
    String.raw`(?<![\p{L}\p{N}@._-])(?:${LABEL}\.)+(?:${BARE_TLDS})(?![\p{L}\p{N}_-])(?::\d{1,5})?(?:[/?#]${REST})?`,
  ].join('|'),
  'giu',
);
/** Sentence punctuation right after a link is not part of it. */
const TRAILING = /[.,;:!?')\]}*]+$/;
const SCHEMES: Record<string, string> = { http: 'hxxp://', https: 'hxxps://', ftp: 'fxp://' };

export const LINK_MARKER = '(link, not opened)';

function defang(url: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url);
  const rest = scheme ? url.slice(scheme[0].length) : url;
  const prefix = scheme ? (SCHEMES[scheme[1]!.toLowerCase()] ?? `${scheme[1]!.replaceAll('.', '[.]')}[:]//`) : '';
  const hostEnd = rest.search(/[/?#]/);
  const host = hostEnd < 0 ? rest : rest.slice(0, hostEnd);
  return `${prefix}${host.replaceAll('.', '[.]')}${rest.slice(host.length)}`;
}

/**
 * Links in text shown to people are defanged and marked, never followed: `https://example.com/x` reads
 * `hxxps://example[.]com/x (link, not opened)`, which no mail client turns back into a link. Apply once.
 */
export function defangLinks(text: string): string {
  return text.replace(URL_LIKE, (match) => {
    const url = match.replace(TRAILING, '');
    if (url === '') return match;
    return `${defang(url)} ${LINK_MARKER}${match.slice(url.length)}`;
  });
}

/** Agent or reviewer text for a card, line breaks kept: neutralized, links defanged. */
export function inertText(text: string): string {
  return defangLinks(neutralize(text, { multiline: true }));
}

/** The same on one line (a subject, a terminal field). */
export function inertLine(text: string): string {
  return defangLinks(neutralize(text));
}
