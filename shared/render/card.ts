/**
 * The review card as data: what a reviewer needs to decide in seconds, in the order they read it.
 * The page, the status page and both email bodies render this one model, so they never disagree.
 * Values are plain text here, already inert (inert-text.ts): unseen characters show as U+FFFD and links in
 * agent or reviewer text are defanged. Each renderer escapes for its own medium.
 */
import type { ReviewerGroup } from '../schemas/config.ts';
import type { JsonValue } from '../schemas/json.ts';
import type { ChoiceOption, Draft, Kind, ReviewRequest } from '../schemas/review-request.ts';
import type { StoredRequest } from '../store/model.ts';
import { describeTally, votesOf } from '../policies/quorum.ts';
import { describeRisk } from '../policies/risk.ts';
import { approveLabel, effectiveRisk, headline, riskBadges, type RiskBadge } from './headline.ts';
import { inertText, quoteKey } from './inert-text.ts';
import { formatDuration, formatTimeLeft, formatWaiting, formatZoned } from './time.ts';

export interface CardInput {
  request: StoredRequest;
  group: ReviewerGroup;
  now: Date;
}

export interface Fact {
  label: string;
  value: string;
  /** Multi-line text (a draft body, an output) shown as a block with its line breaks kept. */
  long?: boolean;
}

export interface ArgRow {
  /** The argument's name as argName shows it, e.g. `"amount_usd"`. */
  name: string;
  /** JSON spelling: strings quoted, objects pretty-printed. */
  display: string;
}

export interface Card {
  kind: Kind;
  /** "Approval needed", "Answer needed", … ("Approval request", … once it is closed): the kind at a glance. */
  heading: string;
  /** What is asked in a few words, key arguments included: "Refund $350 O-9421". */
  title: string;
  /** The risk as badges: "Irreversible" (danger), "Financial" (caution), … */
  badges: RiskBadge[];
  /** True when the action cannot be undone: its approval needs a deliberate tap. */
  irreversible: boolean;
  /** What approving commits to: "Approve refund · $350 · O-9421 · irreversible". */
  approveLabel: string;
  agent: string;
  /** One sentence: who wants what. */
  lead: string;
  facts: Fact[];
  /** Approval: every argument of the proposed call. */
  args?: ArgRow[];
  /** Disambiguation: the agent's candidate interpretations, best first. */
  options?: ChoiceOption[];
  /** Escalation history, oldest first. */
  history: string[];
  /** The time box, e.g. "expires in 27 min (14:30 Europe/London)". */
  timeLeft: string;
  waiting: string;
  tierName: string;
  nextTierName?: string;
}

export interface CardOptions {
  /** Cut long text to this many characters (emails); the page shows everything. */
  maxText?: number;
  /** False for a request that is no longer open: show when it was requested instead of a countdown. */
  live?: boolean;
  /** Where a reader finds the arguments the Action line has no room for. @default 'all are listed below' */
  moreArgsAt?: string;
}

const HEADINGS: Record<Kind, string> = {
  approval: 'Approval needed',
  disambiguation: 'Answer needed',
  verification: 'Review needed',
  escalation: 'Task handed over',
  correction: 'Correction needed',
};

/** Headings for a request that is no longer open. */
const NOUNS: Record<Kind, string> = {
  approval: 'Approval request',
  disambiguation: 'Question',
  verification: 'Draft review',
  escalation: 'Escalated task',
  correction: 'Correction request',
};

const CHANNEL_NOUN: Record<Draft['channel'], string> = {
  email: 'an email',
  post: 'a post',
  report: 'a report',
  message: 'a message',
  other: 'a draft',
};

/** JSON spelling of a value; `pretty` spreads objects and arrays over lines. */
export function formatJson(value: JsonValue, pretty = false): string {
  return JSON.stringify(value, null, pretty && typeof value === 'object' && value !== null ? 2 : undefined);
}

function clip(text: string, max: number | undefined): string {
  if (max === undefined || text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1)).trimEnd()}…`;
}

/** Longest Action line; arguments that do not fit are counted, never silently dropped. */
const CALL_MAX = 240;
const VALUE_MAX = 40;

/**
 * `refund("order_id": "O-9421", "amount_usd": 350)`: names quoted so look-alikes differ, long values cut.
 * Arguments past the line's length are named by count: `refund("note": "…", …) and 2 more arguments: <moreAt>`.
 */
export function formatCall(name: string, args: Record<string, JsonValue>, moreAt: string): string {
  const parts = Object.entries(args).map(([key, value]) => `${quoteKey(key)}: ${clip(formatJson(value), VALUE_MAX)}`);
  let shown = 0;
  let length = name.length + 2;
  while (shown < parts.length && length + parts[shown]!.length + (shown > 0 ? 2 : 0) <= CALL_MAX) {
    length += parts[shown]!.length + (shown > 0 ? 2 : 0);
    shown += 1;
  }
  const hidden = parts.length - shown;
  if (hidden === 0) return `${name}(${parts.join(', ')})`;
  const call = `${name}(${[...parts.slice(0, shown), '…'].join(', ')})`;
  return `${call} and ${hidden} more argument${hidden === 1 ? '' : 's'}: ${moreAt}`;
}

/** An argument's name as the card shows it: quoted, escaped, links defanged. */
export function argName(key: string): string {
  return inertText(quoteKey(key));
}

export function kindHeading(kind: Kind): string {
  return HEADINGS[kind];
}

/** The email subject's short description; only pattern-limited values (agent, action name), never free text. */
export function subjectLine(request: ReviewRequest): string {
  switch (request.kind) {
    case 'approval':
      return `${request.agent} wants ${request.action.name}`;
    case 'disambiguation':
      return `${request.agent} asks you to choose`;
    case 'verification':
      return `${request.agent} drafted ${CHANNEL_NOUN[request.draft.channel]}`;
    case 'escalation':
      return `${request.agent} handed over a task`;
    case 'correction':
      return `${request.agent} output reported wrong`;
  }
}

/** What the agent asked, in the past tense, once the request is no longer open. */
function pastLeadSentence(request: ReviewRequest): string {
  switch (request.kind) {
    case 'approval':
      return `${request.agent} asked for approval to run ${request.action.name}.`;
    case 'disambiguation':
      return `${request.agent} asked which interpretation was meant.`;
    case 'verification':
      return `${request.agent} asked for sign-off on ${CHANNEL_NOUN[request.draft.channel]}.`;
    case 'escalation':
      return `${request.agent} handed a task to a person.`;
    case 'correction':
      return `An output ${request.agent} sent was reported wrong.`;
  }
}

function leadSentence(request: ReviewRequest): string {
  switch (request.kind) {
    case 'approval':
      return `${request.agent} wants to run ${request.action.name} and needs your approval.`;
    case 'disambiguation':
      return `${request.agent} is not sure what was meant and asks you to choose.`;
    case 'verification':
      return `${request.agent} drafted ${CHANNEL_NOUN[request.draft.channel]} and needs sign-off before it goes out.`;
    case 'escalation':
      return `${request.agent} gave up on a task and handed it to a person.`;
    case 'correction':
      return `An output ${request.agent} sent was reported wrong; give the right one.`;
  }
}

function kindFacts(request: ReviewRequest, maxText: number | undefined, moreArgsAt: string): Fact[] {
  switch (request.kind) {
    case 'approval':
      return [{ label: 'Action', value: formatCall(request.action.name, request.action.args, moreArgsAt) }];
    case 'disambiguation':
      return [{ label: 'Question', value: clip(request.question, maxText) }];
    case 'verification': {
      const d = request.draft;
      const facts: Fact[] = [{ label: 'Draft', value: d.audience ? `${d.channel} to ${d.audience}` : d.channel }];
      if (d.title) facts.push({ label: 'Title', value: d.title });
      facts.push({ label: 'Body', value: clip(d.body, maxText), long: true });
      return facts;
    }
    case 'escalation': {
      const facts: Fact[] = [{ label: 'Task', value: clip(request.task.summary, maxText) }];
      if (request.task.attempts) facts.push({ label: 'What was tried', value: clip(request.task.attempts, maxText), long: true });
      return facts;
    }
    case 'correction': {
      const o = request.output;
      const facts: Fact[] = [
        { label: 'Output', value: o.sentAt ? `${o.id}, sent ${o.sentAt}` : o.id },
        { label: 'Content', value: clip(o.content, maxText), long: true },
      ];
      if (request.issue) facts.push({ label: 'Reported issue', value: clip(request.issue, maxText) });
      return facts;
    }
  }
}

/**
 * The risk the request is treated at. When the agent claimed less than the policy, both are shown: "agent
 * says read-only · reversible; policy: financial · irreversible".
 */
export function riskLine(row: Pick<StoredRequest, 'request' | 'policy'>): string {
  const claim = describeRisk(row.request.risk);
  const risk = row.policy ? describeRisk(row.policy.risk) : claim;
  return risk === claim ? risk : `agent says ${claim}; policy: ${risk}`;
}

export function tierName(group: ReviewerGroup, tier: number): string {
  return group.tiers[tier - 1]?.name ?? `tier ${tier}`;
}

/** "Escalated to support managers at 14:02 Europe/London: no decision in time". */
export function historyLines(row: StoredRequest, group: ReviewerGroup, now: Date): string[] {
  return (row.history ?? []).map((h, i) => {
    const verb = i === 0 && h.tier === 1 ? 'Sent to' : 'Escalated to';
    const why = h.why ? `: ${h.why}` : '';
    return `${verb} ${h.tierName} at ${formatZoned(new Date(h.at), group.timeZone, now)}${why}`;
  });
}

export function buildCard({ request: row, group, now }: CardInput, options: CardOptions = {}): Card {
  const req = row.request;
  const zone = group.timeZone;
  const expiresAt = new Date(row.expiresAt);
  const tiers = group.tiers.length;
  const timeLeft = `${formatTimeLeft(expiresAt, now)} (${formatZoned(expiresAt, zone, now)})`;
  const waiting = formatWaiting(new Date(row.createdAt), now);
  const currentTier = tierName(group, row.tier);

  const facts: Fact[] = [{ label: 'Agent', value: req.agent }, ...kindFacts(req, options.maxText, options.moreArgsAt ?? 'all are listed below')];
  facts.push({ label: 'Reason', value: clip(req.reason, options.maxText) });
  if (req.planStep) facts.push({ label: 'Plan step', value: `${req.planStep.current} of ${req.planStep.total}` });
  if (req.context) facts.push({ label: 'Context', value: clip(req.context, options.maxText) });
  facts.push({ label: 'Risk', value: riskLine(row) });
  if (req.requestedBy) facts.push({ label: 'Requested by', value: `${req.requestedBy} (the agent acts for them; they may not decide it)` });
  if (req.confidence !== undefined) facts.push({ label: 'Confidence', value: `${Math.round(req.confidence * 100)}%` });
  if (options.live === false) {
    facts.push({ label: 'Requested', value: formatZoned(new Date(row.createdAt), zone, now) });
  } else {
    facts.push({ label: 'Time', value: `${timeLeft} · ${waiting}` });
  }
  if (options.live !== false && row.heldUntil && new Date(row.heldUntil) > now) {
    const until = new Date(row.heldUntil);
    facts.push({ label: 'On hold', value: `until ${formatZoned(until, zone, now)} (outside business hours, in ${formatDuration(until.getTime() - now.getTime())})` });
  }
  facts.push({ label: 'Asked', value: `${currentTier} (tier ${row.tier} of ${tiers})` });
  const quorum = row.policy?.quorum;
  if (quorum && row.status === 'PENDING') {
    const round = votesOf(row).filter((v) => v.round === row.round);
    const t = { needed: quorum.approvals, approvals: round.filter((v) => v.vote === 'approve'), denials: round.filter((v) => v.vote === 'deny') };
    facts.push({ label: 'Approvals', value: `${describeTally(t)}; ${quorum.denyVetoes ? 'any denial ends it' : `denied once ${quorum.approvals} approvals are out of reach`}` });
  }

  const risk = effectiveRisk(row);
  const card: Card = {
    kind: req.kind,
    heading: options.live === false ? NOUNS[req.kind] : HEADINGS[req.kind],
    title: inertText(headline(req)),
    badges: riskBadges(risk).map((b) => ({ ...b, text: inertText(b.text) })),
    irreversible: !risk.reversible,
    approveLabel: inertText(approveLabel(row)),
    agent: inertText(req.agent),
    lead: inertText(options.live === false ? pastLeadSentence(req) : leadSentence(req)),
    facts: facts.map((f) => ({ ...f, value: inertText(f.value) })),
    history: historyLines(row, group, now).map(inertText),
    timeLeft,
    waiting,
    tierName: currentTier,
  };
  if (row.tier < tiers) card.nextTierName = tierName(group, row.tier + 1);
  if (req.kind === 'approval') {
    card.args = Object.entries(req.action.args).map(([name, value]) => ({ name: argName(name), display: inertText(clip(formatJson(value, true), options.maxText)) }));
  }
  if (req.kind === 'disambiguation') {
    card.options = req.options.map((o) => {
      const label = inertText(o.label);
      return o.detail === undefined ? { ...o, label } : { ...o, label, detail: inertText(clip(o.detail, options.maxText)) };
    });
  }
  return card;
}
