/**
 * The Slack channel: one interactive message per request and round in the group's Slack channel, mentioning
 * the members asked who have a Slack id; the same message shows the outcome once the request ends.
 */
import { ENV, optionalEnv, requireEnv } from '../env.ts';
import { buildCard } from '../render/card.ts';
import { outcomeMessage, personLabel, reviewMessage, escapeMrkdwn } from '../render/slack-blocks.ts';
import type { Decision, Outcome } from '../schemas/decision.ts';
import type { StoredRequest } from '../store/model.ts';
import type { ChannelHttpRequest, ChannelHttpResponse, Delivery, Recipient, Reminder } from '../review/channel.ts';
import { choicesFor } from '../review/choices.ts';
import { describeError, visibleRow } from '../review/decisions.ts';
import type { Channel, ConcludeDeps, ReviewDeps } from '../review/deps.ts';
import { groupOf, tierOf } from '../review/groups.ts';
import { reminderLine } from '../review/remind.ts';
import type { ChannelModule } from './module.ts';
import { handleSlackInteraction } from './slack-interactions.ts';
import { SLACK_INTERACTIONS_PATH } from './slack-route.ts';
import { slackSecretLoader } from './slack-secret.ts';
import { slackDeps, SLACK_MAX_TEXT, type SlackDeps } from './slack-settings.ts';

/** A modal holds at most 100 blocks: approvals with more arguments are modified through the emailed link. */
const MAX_MODIFY_ARGS = 90;

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

type SlackChannelDeps = Pick<ReviewDeps, 'config' | 'requests' | 'log' | 'now'>;

export class SlackChannel implements Channel {
  readonly name = 'slack' as const;

  constructor(private readonly slack: SlackDeps) {}

  private channelOf(deps: SlackChannelDeps, row: StoredRequest): string {
    return groupOf(deps.config, row).slackChannel ?? this.slack.settings.channel;
  }

  /**
   * Post the card for this round, once: a row that records this round's message was delivered already. An
   * earlier round's message (before an escalation or a re-notify) is first replaced by a "moved on" card.
   */
  async deliver(deps: SlackChannelDeps, row: StoredRequest, recipients: readonly Recipient[]): Promise<Delivery | undefined> {
    const onSlack = recipients.filter((r) => r.slack !== undefined);
    if (onSlack.length === 0) return undefined;
    const ids = onSlack.map((r) => r.id);
    if (row.slackMessage?.round === row.round) return { channel: 'slack', reached: [], already: ids, failed: [], details: { message: row.slackMessage } };

    const web = await this.slack.client();
    const group = groupOf(deps.config, row);
    const now = deps.now();
    if (row.slackMessage) {
      const moved = outcomeMessage(buildCard({ request: visibleRow(row), group, now }, { maxText: SLACK_MAX_TEXT, live: false }), `:arrow_up: *Moved on* to ${escapeMrkdwn(tierOf(group, row.tier)?.name ?? `tier ${row.tier}`)}; see the newer message.`);
      await web.chat.update({ channel: row.slackMessage.channel, ts: row.slackMessage.ts, ...moved }).catch((err: unknown) => deps.log.warn('Could not update the earlier Slack message', { requestId: row.requestId, error: String(err) }));
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
    const posted = await web.chat.postMessage({ channel: this.channelOf(deps, row), ...message, unfurl_links: false, unfurl_media: false });
    const recorded = { channel: posted.channel ?? this.channelOf(deps, row), ts: posted.ts ?? '', round: row.round };
    await deps.requests.recordSlackMessage(row.requestId, recorded);
    return { channel: 'slack', reached: ids, already: [], failed: [], details: { message: recorded } };
  }

  /** A reply in the round's message thread, mentioning the members asked who have a Slack id. */
  async remind(deps: SlackChannelDeps, row: StoredRequest, recipients: readonly Recipient[], reminder: Reminder): Promise<Delivery | undefined> {
    const onSlack = recipients.filter((r) => r.slack !== undefined);
    const message = row.slackMessage;
    if (onSlack.length === 0 || message?.round !== row.round) return undefined;
    const web = await this.slack.client();
    const mentions = onSlack.map((r) => `<@${r.slack}>`).join(' ');
    await web.chat.postMessage({ channel: message.channel, thread_ts: message.ts, text: `:alarm_clock: ${mentions} ${escapeMrkdwn(reminderLine(reminder, deps.now()))}`, unfurl_links: false, unfurl_media: false });
    return { channel: 'slack', reached: onSlack.map((r) => r.id), already: [], failed: [], details: { thread: message.ts } };
  }

  /** Replace the round's message with the card and its outcome, for everyone in the channel. Never throws. */
  async conclude(deps: ConcludeDeps, row: StoredRequest, decision: Decision): Promise<{ updated: boolean } | undefined> {
    if (!row.slackMessage) return undefined;
    try {
      const web = await this.slack.client();
      const card = buildCard({ request: visibleRow(row), group: groupOf(deps.config, row), now: deps.now() }, { maxText: SLACK_MAX_TEXT, live: false });
      await web.chat.update({ channel: row.slackMessage.channel, ts: row.slackMessage.ts, ...outcomeMessage(card, outcomeLine(decision)) });
      return { updated: true };
    } catch (err) {
      deps.log.warn('Could not show the outcome on a channel', { requestId: row.requestId, channel: this.name, error: describeError(err) });
      return { updated: false };
    }
  }

  /** Slack's interactivity requests (button clicks, modal submissions), signed by Slack. */
  readonly interactions = {
    path: SLACK_INTERACTIONS_PATH,
    handle: (deps: ReviewDeps, req: ChannelHttpRequest): Promise<ChannelHttpResponse> =>
      handleSlackInteraction(deps, this.slack, { body: req.body, timestamp: req.header('x-slack-request-timestamp'), signature: req.header('x-slack-signature') }),
  };
}

/** On when the config has `slack`: its secret named in the environment, read when first used. */
export const slackChannelModule: ChannelModule = {
  ownSecret: true,
  fromEnv: (config, env, secrets) =>
    config.slack ? new SlackChannel(slackDeps(config.slack, slackSecretLoader(secrets, requireEnv(ENV.slackSecretId, env)), optionalEnv(ENV.slackApiUrl, env))) : undefined,
};
