/**
 * A stand-in for Slack's side of interactivity: builds the payloads Slack sends when someone clicks a button
 * of a posted message (block_actions) or submits a modal (view_submission), signs them with the app's
 * signing secret as Slack does, and POSTs them to the interactions endpoint. Tests use it with the local
 * Slack stand-in (slack.ts), whose recorded messages and modals carry the buttons and inputs to use.
 */
import { randomBytes } from 'node:crypto';
import { signSlackRequest } from '#shared/channels/slack-interactions.ts';
import type { SlackStoredMessage } from './slack.ts';

export interface InteractionTarget {
  /** The interactions endpoint, e.g. `<respond>/slack/interactions`. */
  url: string;
  signingSecret: string;
}

export interface SendOptions {
  /** Epoch seconds to sign with. @default now */
  timestamp?: number;
  /** Send this signature instead of the right one. */
  signature?: string;
}

/** POST a payload as Slack does: `payload=<json>`, form-encoded, with X-Slack-Request-Timestamp and X-Slack-Signature. */
export async function sendInteraction(target: InteractionTarget, payload: unknown, options: SendOptions = {}): Promise<Response> {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return fetch(target.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': options.signature ?? signSlackRequest(target.signingSecret, timestamp, body),
    },
    body,
  });
}

interface Button {
  action_id: string;
  value?: string;
}

/** The message's button with this action id (`hitl.approve`, …) or, with a prefix match, the first such. */
export function buttonOf(message: SlackStoredMessage, actionId: string): Button {
  const buttons = (message.blocks ?? []).flatMap((b) => ((b as { type?: string }).type === 'actions' ? ((b as { elements: Button[] }).elements ?? []) : []));
  const button = buttons.find((e) => e.action_id === actionId) ?? buttons.find((e) => e.action_id.startsWith(`${actionId}.`));
  if (!button) throw new Error(`No button ${actionId} in the message; it has ${buttons.map((e) => e.action_id).join(', ') || 'none'}`);
  return button;
}

/** What Slack sends when `user` clicks `actionId` on `message`. */
export function clickPayload(user: string, message: SlackStoredMessage, actionId: string): Record<string, unknown> {
  const button = buttonOf(message, actionId);
  return {
    type: 'block_actions',
    user: { id: user, username: user.toLowerCase(), team_id: 'T0LOCAL' },
    api_app_id: 'A0LOCAL',
    trigger_id: `${Date.now()}.${randomBytes(4).toString('hex')}`,
    channel: { id: message.channel, name: 'reviews' },
    container: { type: 'message', message_ts: message.ts, channel_id: message.channel },
    message: { ts: message.ts, text: message.text, blocks: message.blocks },
    actions: [{ type: 'button', block_id: 'hitl.choices', action_id: button.action_id, value: button.value, action_ts: String(Date.now() / 1000) }],
  };
}

/** A modal as views.open received it. */
export interface OpenedView {
  callback_id: string;
  private_metadata: string;
  blocks: { type: string; block_id?: string; element?: { type: string } }[];
}

/**
 * What Slack sends when `user` submits `view` with these inputs: block id → text for plain-text inputs,
 * the chosen option's value for selects. Inputs not given are sent empty, as Slack does.
 */
export function submitPayload(user: string, view: OpenedView, inputs: Record<string, string>): Record<string, unknown> {
  const values: Record<string, Record<string, unknown>> = {};
  for (const block of view.blocks) {
    if (block.type !== 'input' || !block.block_id || !block.element) continue;
    const given = inputs[block.block_id];
    values[block.block_id] = {
      value: block.element.type === 'static_select'
        ? { type: 'static_select', selected_option: given === undefined ? null : { text: { type: 'plain_text', text: given }, value: given } }
        : { type: 'plain_text_input', value: given ?? (block.element as { initial_value?: string }).initial_value ?? null },
    };
  }
  return {
    type: 'view_submission',
    user: { id: user, team_id: 'T0LOCAL' },
    api_app_id: 'A0LOCAL',
    view: { id: 'V0LOCAL', type: 'modal', callback_id: view.callback_id, private_metadata: view.private_metadata, state: { values } },
  };
}
