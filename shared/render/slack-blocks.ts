/**
 * The review card as Slack Block Kit: the message posted to the group's channel (with Approve, Deny,
 * Modify, Escalate buttons), the same card with the outcome once the request ends, and the Deny and Modify
 * modals. Built from the card model (card.ts) the page and emails render, so they never disagree.
 * Text goes out as mrkdwn with `&`, `<` and `>` escaped: nothing the agent wrote can mention a channel or
 * make a link.
 */
import type { KnownBlock, ModalView } from '@slack/web-api';
import type { Card } from './card.ts';

/** What a button or modal carries back to the interactions endpoint. */
export interface SlackRef {
  requestId: string;
  round: number;
  /** Disambiguation: the option a button answers with. */
  option?: string;
}

/** Action ids of the message's buttons and callback ids of the modals (`hitl.deny` is both). */
export const SLACK_ACTION = {
  approve: 'hitl.approve',
  deny: 'hitl.deny',
  modify: 'hitl.modify',
  escalate: 'hitl.escalate',
  answer: 'hitl.answer',
} as const;
export type SlackAction = (typeof SLACK_ACTION)[keyof typeof SLACK_ACTION];

/** Block ids of the modals' inputs: the deny reasons, and one `arg.<name>` per argument (as the web form names them). */
export const DENY_PRESET_BLOCK = 'reason_preset';
export const DENY_TEXT_BLOCK = 'reason_text';
export const COMMENT_BLOCK = 'comment';

const MAX_SECTION = 2900;
const MAX_PLAIN = 150;

export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function plain(text: string, max = MAX_PLAIN): { type: 'plain_text'; text: string; emoji: boolean } {
  return { type: 'plain_text', text: clip(text, max), emoji: false };
}

/** A Slack user id from a member identity `slack:U…`, for a mention; an email address stays as it is. */
export function personLabel(id: string): string {
  return id.startsWith('slack:') ? `<@${id.slice('slack:'.length)}>` : escapeMrkdwn(id);
}

function cardBlocks(card: Card): KnownBlock[] {
  const blocks: KnownBlock[] = [
    { type: 'header', text: plain(card.heading) },
    { type: 'section', text: { type: 'mrkdwn', text: clip(escapeMrkdwn(card.lead), MAX_SECTION) } },
  ];
  for (const fact of card.facts) {
    const value = escapeMrkdwn(fact.value);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*${escapeMrkdwn(fact.label)}*\n${fact.long ? `\`\`\`${value}\`\`\`` : value}`, MAX_SECTION) } });
  }
  if (card.args?.length) {
    const lines = card.args.map((a) => `${a.name}: ${a.display}`).join('\n');
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*Arguments*\n\`\`\`${escapeMrkdwn(lines)}\`\`\``, MAX_SECTION) } });
  }
  if (card.options?.length) {
    const lines = card.options.map((o, i) => `${i + 1}. ${o.label}${o.detail ? ` — ${o.detail}` : ''}`).join('\n');
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: clip(`*Options*\n${escapeMrkdwn(lines)}`, MAX_SECTION) } });
  }
  if (card.history.length) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(escapeMrkdwn(card.history.join('\n')), MAX_SECTION) }] });
  }
  return blocks;
}

export interface ReviewMessageInput {
  card: Card;
  ref: SlackRef;
  /** Which buttons: the request's choices Slack can offer. */
  choices: { approve: boolean; deny: boolean; modify: boolean; escalate: boolean };
  /** Slack user ids of the members asked, mentioned so Slack notifies them. */
  mentions: string[];
  /** What the card cannot offer in Slack (e.g. editing a draft), pointing at the emailed link. */
  note?: string;
}

export interface SlackMessage {
  /** The notification and accessibility text. */
  text: string;
  blocks: KnownBlock[];
}

function button(text: string, actionId: string, ref: SlackRef, style?: 'primary' | 'danger') {
  return { type: 'button' as const, text: plain(text, 75), action_id: actionId, value: JSON.stringify(ref), ...(style ? { style } : {}) };
}

export function reviewMessage({ card, ref, choices, mentions, note }: ReviewMessageInput): SlackMessage {
  const blocks = cardBlocks(card);
  const asked = mentions.length ? `${mentions.map((u) => `<@${u}>`).join(' ')} · ` : '';
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `${asked}${escapeMrkdwn(card.tierName)} decides` }] });
  const buttons = [];
  if (choices.approve) buttons.push(button('Approve', SLACK_ACTION.approve, ref, 'primary'));
  for (const [i, option] of (card.options ?? []).entries()) buttons.push(button(option.label, `${SLACK_ACTION.answer}.${i}`, { ...ref, option: option.id }, i === 0 ? 'primary' : undefined));
  if (choices.modify) buttons.push(button('Modify', SLACK_ACTION.modify, ref));
  if (choices.deny) buttons.push(button('Deny', SLACK_ACTION.deny, ref, 'danger'));
  if (choices.escalate && card.nextTierName) buttons.push(button(`Escalate to ${card.nextTierName}`, SLACK_ACTION.escalate, ref));
  if (buttons.length) blocks.push({ type: 'actions', block_id: 'hitl.choices', elements: buttons.slice(0, 25) });
  if (note) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: escapeMrkdwn(note) }] });
  return { text: `${card.heading}: ${card.lead}`, blocks };
}

/** The card without buttons and with what happened, for everyone in the channel. */
export function outcomeMessage(card: Card, outcome: string): SlackMessage {
  const blocks = cardBlocks(card);
  blocks.push({ type: 'divider' }, { type: 'section', block_id: 'hitl.outcome', text: { type: 'mrkdwn', text: clip(outcome, MAX_SECTION) } });
  return { text: `${card.heading}: ${outcome}`, blocks };
}

function modal(callbackId: string, ref: SlackRef, title: string, submit: string, blocks: KnownBlock[]): ModalView {
  return {
    type: 'modal',
    callback_id: callbackId,
    private_metadata: JSON.stringify(ref),
    title: plain(title, 24),
    submit: plain(submit, 24),
    close: plain('Cancel', 24),
    blocks,
  };
}

const commentInput = (): KnownBlock => ({
  type: 'input',
  block_id: COMMENT_BLOCK,
  optional: true,
  label: plain('Comment (optional)'),
  element: { type: 'plain_text_input', action_id: 'value', multiline: true, max_length: 2000 },
});

export function denyModal(card: Card, ref: SlackRef, presetReasons: readonly string[]): ModalView {
  return modal(SLACK_ACTION.deny, ref, 'Deny', 'Deny', [
    { type: 'section', text: { type: 'mrkdwn', text: clip(escapeMrkdwn(card.lead), MAX_SECTION) } },
    {
      type: 'input',
      block_id: DENY_PRESET_BLOCK,
      optional: true,
      label: plain('Reason'),
      element: { type: 'static_select', action_id: 'value', placeholder: plain('Choose a reason'), options: presetReasons.map((r) => ({ text: plain(r, 75), value: r.slice(0, 150) })) },
    },
    {
      type: 'input',
      block_id: DENY_TEXT_BLOCK,
      optional: true,
      label: plain('Say why (the agent reads this)'),
      element: { type: 'plain_text_input', action_id: 'value', multiline: true, max_length: 2000 },
    },
  ]);
}

/** One input per argument, prefilled with the proposed value (strings as they are, anything else as JSON). */
export function modifyModal(card: Card, ref: SlackRef, args: Record<string, unknown>): ModalView {
  const inputs: KnownBlock[] = Object.entries(args).map(([name, value]) => ({
    type: 'input',
    block_id: `arg.${name}`,
    label: plain(name),
    element: { type: 'plain_text_input', action_id: 'value', multiline: typeof value === 'object' && value !== null, initial_value: typeof value === 'string' ? value : JSON.stringify(value) },
  }));
  return modal(SLACK_ACTION.modify, ref, 'Modify and approve', 'Approve', [
    { type: 'section', text: { type: 'mrkdwn', text: clip(escapeMrkdwn(card.lead), MAX_SECTION) } },
    ...inputs.slice(0, 95),
    commentInput(),
  ]);
}
