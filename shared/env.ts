/**
 * Configuration read once at cold start. Handlers call these at module scope; domain code
 * receives the values as arguments and never reads process.env itself.
 */
import { ConfigError } from './errors.ts';

/** Names of the environment variables the stack sets on every function (and the local stack mirrors). */
export const ENV = {
  requestsTable: 'HITL_REQUESTS_TABLE',
  decisionsTable: 'HITL_DECISIONS_TABLE',
  config: 'HITL_CONFIG',
  signingSecretId: 'HITL_SIGNING_SECRET_ID',
  baseUrl: 'HITL_BASE_URL',
  scheduleGroup: 'HITL_SCHEDULE_GROUP',
  schedulerRoleArn: 'HITL_SCHEDULER_ROLE_ARN',
  expireFunctionArn: 'HITL_EXPIRE_FUNCTION_ARN',
  scheduleDlqArn: 'HITL_SCHEDULE_DLQ_ARN',
  /** The Firehose stream the decision-stream function writes rows to. */
  decisionStream: 'HITL_DECISION_STREAM',
  /** The bus `hitl.decision` events go to. */
  eventBusName: 'HITL_EVENT_BUS_NAME',
  /** The Secrets Manager secret decision webhooks are signed with (not the link-signing key ring). */
  webhookSecretId: 'HITL_WEBHOOK_SECRET_ID',
  /** The Slack app's secret (bot token, signing secret); set only when the config enables Slack. */
  slackSecretId: 'HITL_SLACK_SECRET_ID',
  /** Overrides `slack.apiUrl` (the local stack points it at its Slack stand-in). */
  slackApiUrl: 'HITL_SLACK_API_URL',
} as const;

export function requireEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') {
    throw new ConfigError(`Environment variable ${name} is not set; the stack (or the local stack) must provide it`);
  }
  return value;
}

export function optionalEnv(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}
