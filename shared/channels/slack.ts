/**
 * The Slack channel: one interactive message per request and round in the group's Slack channel, mentioning
 * the members asked who have a Slack id; the same message shows the outcome once the request ends.
 */
import { SlackApi } from './slack-api.ts';
import { buildCard } from '../render/card.ts';
import { outcomeMessage, personLabel, reviewMessage, escapeMrkdwn } from '../render/slack-blocks.ts';
import type { SlackSettings } from '../schemas/config.ts';
import type { Decision, Outcome } from '../schemas/decision.ts';
import type { StoredRequest } from '../store/model.ts';
import { choicesFor } from '../review/choices.ts';
import { visibleRow } from '../review/decisions.ts';
import type { ReviewDeps } from '../review/deps.ts';
import { groupOf, tierOf } from '../review/groups.ts';
import type { Delivery, Notifier, Recipient } from './notifier.ts';
import type { SlackSecret } from './slack-secret.ts';

/** Reasons the Deny modal offers; the reviewer may add their own words. */
export const DEFAULT_DENY_REASONS = ['Amount or scope too large', 'Not enough context to decide', 'Against policy', 'Wrong action for this case', 'Already handled'];

/** Text cut to this many characters in Slack (a card shows everything on the emailed page). */
export const SLACK_MAX_TEXT = 1500;
/** A modal holds at most 100 blocks: approvals with more arguments are modified through the emailed link. */
const MAX_MODIFY_ARGS = 90;

export interface SlackDeps {
  settings: SlackSettings;
  /** The app's credentials (bot token, signing secret), cached. */
  secret: () => Promise<SlackSecret>;
  /** A Web API client with the bot token, pointed at `apiUrl` (env override for a stand-in, else the config's). */
  client: () => Promise<SlackApi>;
}

export function slackDeps(settings: SlackSettings, secret: () => Promise<SlackSecret>, apiUrl = settings.apiUrl): SlackDeps {
  let client: { token: string; web: SlackApi } | undefined;
  return {
    settings,
    secret,
    client: async () => {
      const { botToken } = await secret();
      if (client?.token !== botToken) client = { token: botToken, web: new SlackApi(botToken, { apiUrl }) };
      return client.web;
    },
  };
}

const OUTCOME: Record<Outcome, string> = {
  approved: ':white_check_mark: *Approved*',
  denied: ':no_entry: *Denied*',
  modified: ':pencil2: *Approved with changes*',
  answered: ':white_check_mark: *Answered*',
  resolved: ':white_check_mark: *Resolved*',
  corrected: ':pencil2: *Corrected*',
  expired: ':hourglass: *Expired*',
  cancelled: ':heavy_multiplication_x: *Cancelled*',
};

/** One line for everyone in the channel: what was decided, by whom, why. */
export function outcomeLine(decision: Decision): string {
  const by = decision.decidedBy.startsWith('policy:') ? `by policy ${escapeMrkdwn(decision.decidedBy.slice('policy:'.length))}` : `by ${personLabel(decision.decidedBy)}`;
  const via = decision.channel && decision.channel !== 'policy' ? ` via ${decision.channel}` : '';
  const why = decision.reason ? `: ${escapeMrkdwn(decision.reason)}` : '';
  const changed = decision.outcome === 'modified' && decision.approvedArgs ? `\n\`\`\`${escapeMrkdwn(JSON.stringify(decision.approvedArgs))}\`\`\`` : '';
  const option = decision.chosenOption ? ` "${escapeMrkdwn(decision.chosenOption.label)}"` : '';
  return `${OUTCOME[decision.outcome]}${option} ${by}${via}${why}${changed}`;
}

export class SlackNotifier implements Notifier {
  readonly channel = 'slack' as const;

  constructor(
    private readonly deps: Pick<ReviewDeps, 'config' | 'requests' | 'log' | 'now'>,
    private readonly slack: SlackDeps,
  ) {}

  private channelOf(row: StoredRequest): string {
    return groupOf(this.deps.config, row).slackChannel ?? this.slack.settings.channel;
  }

  /**
   * Post the card for this round, once: a row that records this round's message was delivered already. An
   * earlier round's message (before an escalation or a re-notify) is first replaced by a "moved on" card.
   */
  async deliver(row: StoredRequest, recipients: readonly Recipient[]): Promise<Delivery | undefined> {
    const onSlack = recipients.filter((r) => r.slack !== undefined);
    if (onSlack.length === 0) return undefined;
    const ids = onSlack.map((r) => r.id);
    if (row.slackMessage?.round === row.round) return { channel: 'slack', reached: [], already: ids, failed: [], details: { message: row.slackMessage } };

    const web = await this.slack.client();
    const group = groupOf(this.deps.config, row);
    const now = this.deps.now();
    if (row.slackMessage) {
      const moved = outcomeMessage(buildCard({ request: visibleRow(row), group, now }, { maxText: SLACK_MAX_TEXT, live: false }), `:arrow_up: *Moved on* to ${escapeMrkdwn(tierOf(group, row.tier)?.name ?? `tier ${row.tier}`)}; see the newer message.`);
      await web.chat.update({ channel: row.slackMessage.channel, ts: row.slackMessage.ts, ...moved }).catch((err: unknown) => this.deps.log.warn('Could not update the earlier Slack message', { requestId: row.requestId, error: String(err) }));
    }
    const card = buildCard({ request: visibleRow(row), group, now }, { maxText: SLACK_MAX_TEXT, moreArgsAt: 'all are listed below' });
    const choices = choicesFor(row);
    const request = row.request;
    const tooManyArgs = request.kind === 'approval' && Object.keys(request.action.args).length > MAX_MODIFY_ARGS;
    const offered = {
      approve: choices.includes('approve'),
      deny: choices.includes('deny'),
      modify: choices.includes('modify') && request.kind === 'approval' && Object.keys(request.action.args).length > 0 && !tooManyArgs,
      escalate: choices.includes('escalate') && tierOf(group, row.tier + 1) !== undefined,
    };
    const elsewhere = choices.filter((c) => !['approve', 'deny', 'escalate', 'answer'].includes(c) && !(c === 'modify' && offered.modify));
    const note = elsewhere.length ? `To ${elsewhere.join(' or ')}, use the link in your review email.` : undefined;
    const message = reviewMessage({ card, ref: { requestId: row.requestId, round: row.round }, choices: offered, mentions: onSlack.map((r) => r.slack!), ...(note ? { note } : {}) });
    const posted = await web.chat.postMessage({ channel: this.channelOf(row), ...message, unfurl_links: false, unfurl_media: false });
    const recorded = { channel: posted.channel ?? this.channelOf(row), ts: posted.ts ?? '', round: row.round };
    await this.deps.requests.recordSlackMessage(row.requestId, recorded);
    return { channel: 'slack', reached: ids, already: [], failed: [], details: { message: recorded } };
  }

  /** Replace the round's message with the card and its outcome, for everyone in the channel. */
  async concluded(row: StoredRequest, decision: Decision): Promise<void> {
    if (!row.slackMessage) return;
    const web = await this.slack.client();
    const card = buildCard({ request: visibleRow(row), group: groupOf(this.deps.config, row), now: this.deps.now() }, { maxText: SLACK_MAX_TEXT, live: false });
    await web.chat.update({ channel: row.slackMessage.channel, ts: row.slackMessage.ts, ...outcomeMessage(card, outcomeLine(decision)) });
  }
}
