/** Where the Slack app sends button clicks and modal submissions (its Interactivity Request URL), on the review API. */
export const SLACK_INTERACTIONS_PATH = '/slack/interactions';
