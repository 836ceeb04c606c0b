/**
 * The card's head in a few words: what is asked ("Refund $350 O-9421"), how risky it is, and what the
 * approve button commits to ("Approve refund · $350 · irreversible"). The same words lead the email
 * subject, so nine refunds in an inbox read as nine different refunds.
 *
 * Key arguments are derived generically: amount-like arguments first, then id-like ones, and only values
 * that look like an amount or an identifier (digits, letters, `-`, `_`, `#`, `:`; no dots, slashes or
 * spaces), so no link or sentence of agent text reaches a subject line or a button.
 */
import type { JsonValue } from '../schemas/json.ts';
import type { RuleRisk } from '../schemas/policy.ts';
import type { Draft, ReviewRequest } from '../schemas/review-request.ts';
import type { StoredRequest } from '../store/model.ts';

const AMOUNT_NAME = /(amount|price|total|cost|fee|sum|balance|credit|payment|value|usd|eur|gbp|jpy|cents)/i;
const ID_NAME = /(^id$|_id$|[a-z]Id$|^id_|number$|_no$|ref|sku|order|invoice|ticket|account|customer|user)/i;
const TOKEN = /^[A-Za-z0-9][A-Za-z0-9_#:-]{0,23}$/;
const CURRENCY_CODE = /^[A-Z]{3}$/;
const SYMBOLS: Record<string, string> = { usd: '$', eur: '€', gbp: '£', jpy: '¥' };

/** At most this many key arguments, and this many characters of them together. */
const KEY_ARGS_MAX = 3;
const KEY_ARGS_CHARS = 40;

function currencyOf(name: string, args: Record<string, JsonValue>): { symbol?: string; code?: string } {
  const suffix = /(?:^|_)(usd|eur|gbp|jpy)$/i.exec(name)?.[1]?.toLowerCase();
  if (suffix) return { symbol: SYMBOLS[suffix] };
  for (const [key, value] of Object.entries(args)) {
    if (/currency/i.test(key) && typeof value === 'string' && CURRENCY_CODE.test(value)) return { symbol: SYMBOLS[value.toLowerCase()], code: value };
  }
  return {};
}

function amountText(name: string, value: number, args: Record<string, JsonValue>): string {
  const cents = /cents$/i.test(name);
  const n = cents ? value / 100 : value;
  const shown = Number.isInteger(n) ? n.toLocaleString('en-US') : n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const { symbol, code } = currencyOf(name, args);
  if (symbol) return `${n < 0 ? '-' : ''}${symbol}${shown.replace(/^-/, '')}`;
  return code ? `${shown} ${code}` : shown;
}

/** "$350", "O-9421": the arguments a reviewer identifies the call by, amount-like first, bounded in length. */
export function keyArgs(args: Record<string, JsonValue>): string[] {
  const amounts: string[] = [];
  const ids: string[] = [];
  for (const [name, value] of Object.entries(args)) {
    if (typeof value === 'number' && Number.isFinite(value) && AMOUNT_NAME.test(name)) amounts.push(amountText(name, value, args));
    else if ((typeof value === 'string' && TOKEN.test(value)) || (typeof value === 'number' && Number.isInteger(value))) {
      if (ID_NAME.test(name) && !/currency/i.test(name)) ids.push(String(value));
    }
  }
  const out: string[] = [];
  let length = 0;
  for (const text of [...amounts, ...ids]) {
    if (out.length >= KEY_ARGS_MAX) break;
    if (length + text.length > KEY_ARGS_CHARS) continue;
    out.push(text);
    length += text.length + 1;
  }
  return out;
}

/** `issue_refund` → "issue refund"; `crm.update_contact` → "crm update contact". */
export function actionWords(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[._:-]+/)
    .filter(Boolean)
    .join(' ')
    .toLowerCase();
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const CHANNEL: Record<Draft['channel'], string> = { email: 'email', post: 'post', report: 'report', message: 'message', other: 'draft' };

/** What is asked, in a few words: "Refund $350 O-9421", "Sign off an email draft". Pattern-limited values only. */
export function headline(request: ReviewRequest): string {
  switch (request.kind) {
    case 'approval':
      return [capitalize(actionWords(request.action.name)), ...keyArgs(request.action.args)].join(' ');
    case 'disambiguation':
      return `Choose 1 of ${request.options.length} interpretations`;
    case 'verification':
      return `Sign off ${CHANNEL[request.draft.channel] === 'email' ? 'an' : 'a'} ${CHANNEL[request.draft.channel]} draft`;
    case 'escalation':
      return 'Take over a task';
    case 'correction':
      return TOKEN.test(request.output.id) ? `Correct output ${request.output.id}` : 'Correct an output';
  }
}

/** The risk the request is treated at: the policy's where one applied, else the agent's claim. */
export function effectiveRisk(row: Pick<StoredRequest, 'request' | 'policy'>): RuleRisk {
  return row.policy?.risk ?? row.request.risk;
}

export type BadgeTone = 'danger' | 'caution' | 'neutral';

export interface RiskBadge {
  text: string;
  tone: BadgeTone;
}

const MONEY_CLASS = /(financ|payment|money|billing|refund|payout|charge)/;

/** "Irreversible" (danger) and the risk class ("financial": caution); colour is never the only signal. */
export function riskBadges(risk: RuleRisk): RiskBadge[] {
  const badges: RiskBadge[] = [];
  if (!risk.reversible) badges.push({ text: 'Irreversible', tone: 'danger' });
  badges.push({ text: capitalize(risk.class), tone: MONEY_CLASS.test(risk.class) ? 'caution' : 'neutral' });
  if (risk.reversible) badges.push({ text: 'Reversible', tone: 'neutral' });
  return badges;
}

/** The risk in one word or two for a subject line: "irreversible", else the class. */
export function riskWord(risk: RuleRisk): string {
  return risk.reversible ? risk.class : 'irreversible';
}

/** What approving commits to: "Approve refund · $350 · O-9421 · irreversible", "Approve email as written". */
export function approveLabel(row: Pick<StoredRequest, 'request' | 'policy'>): string {
  const req = row.request;
  const risk = effectiveRisk(row);
  const tail = risk.reversible ? [] : ['irreversible'];
  if (req.kind === 'approval') return [`Approve ${actionWords(req.action.name)}`, ...keyArgs(req.action.args).slice(0, 2), ...tail].join(' · ');
  if (req.kind === 'verification') return [`Approve ${CHANNEL[req.draft.channel]} as written`, ...tail].join(' · ');
  return ['Approve', ...tail].join(' · ');
}
