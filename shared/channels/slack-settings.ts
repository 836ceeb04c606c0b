/** The Slack channel's settings and app client, shared by its messages (slack.ts) and its interactions. */
import { SlackApi } from './slack-api.ts';
import type { SlackSettings } from '../schemas/config.ts';
import type { SlackSecret } from './slack-secret.ts';

/** Reasons the Deny modal offers; the reviewer may add their own words. */
export const DEFAULT_DENY_REASONS = ['Amount or scope too large', 'Not enough context to decide', 'Against policy', 'Wrong action for this case', 'Already handled'];

/** Text cut to this many characters in Slack (a card shows everything on the emailed page). */
export const SLACK_MAX_TEXT = 1500;

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
