/**
 * What the review services need, passed in rather than imported, so the route, request, respond and
 * expire functions (and tests) share the services and differ only in how they build this object.
 */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SESClient } from '@aws-sdk/client-ses';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { createLogger, createMetrics, documentClient, type Log } from '../clients.ts';
import { ENV, optionalEnv, requireEnv } from '../env.ts';
import { decodeConfigEnv } from '../config-env.ts';
import { parseDeploymentConfig, type DeploymentConfig } from '../schemas/config.ts';
import type { ScheduleSettings } from '../schedules.ts';
import type { KeyRing } from '../signing.ts';
import { slackDeps, type SlackDeps } from '../channels/slack.ts';
import { slackSecretLoader } from '../channels/slack-secret.ts';
import { keyRingLoader, type KeyRingLoadOptions } from '../signing-keys.ts';
import { decisionEventsFor, type DecisionEvents } from './decision-event.ts';
import { DecisionLog } from '../store/decision-log.ts';
import { Ledger } from '../store/ledger.ts';
import { RequestStore } from '../store/requests.ts';

/** Enough for the route function: config and the tables. */
export interface StoreDeps {
  config: DeploymentConfig;
  requests: RequestStore;
  decisionLog: DecisionLog;
  /** State changes written together with their log events. */
  ledger: Ledger;
  now: () => Date;
  log: Log;
  metrics?: Metrics;
  /** The bus `hitl.decision` events go to; without it none are published. */
  decisionEvents?: DecisionEvents;
}

export interface ReviewDeps extends StoreDeps {
  sfn: SFNClient;
  ses: SESClient;
  scheduler: SchedulerClient;
  schedules: ScheduleSettings;
  /** Public origin (and path prefix) of the respond endpoint; review links start with it. */
  baseUrl: string;
  keyRing: (options?: KeyRingLoadOptions) => Promise<KeyRing>;
  /** The Slack channel, when the config enables it; email is always on. */
  slack?: SlackDeps;
}

/**
 * The SDK clients, built by each handler: only the ones it uses are imported, so each bundle carries only
 * those. Pass `lazyClient(() => new XClient({}))` for one its common path never needs.
 */
export interface StoreClients {
  dynamodb: DynamoDBClient;
}

export interface ReviewClients extends StoreClients {
  sfn: SFNClient;
  ses: SESClient;
  scheduler: SchedulerClient;
  secrets: SecretsManagerClient;
}

function configFromEnv(text: string): DeploymentConfig {
  return parseDeploymentConfig(decodeConfigEnv(text, ENV.config), ENV.config);
}

/** Config and tables from the environment; fails loudly at cold start when something is missing. */
export function storeDepsFromEnv(fn: string, env: NodeJS.ProcessEnv, clients: StoreClients): StoreDeps {
  const doc = documentClient(clients.dynamodb);
  const config = configFromEnv(requireEnv(ENV.config, env));
  const requests = new RequestStore(doc, requireEnv(ENV.requestsTable, env), config.pendingShards);
  const decisionLog = new DecisionLog(doc, requireEnv(ENV.decisionsTable, env));
  return {
    config,
    requests,
    decisionLog,
    ledger: new Ledger(requests, decisionLog),
    now: () => new Date(),
    log: createLogger(fn),
    metrics: createMetrics(fn),
    decisionEvents: decisionEventsFor(optionalEnv(ENV.eventBusName, env)),
  };
}

/** The Slack channel, when the config enables it: its secret named in the environment, read when first used. */
export function slackDepsFromEnv(config: DeploymentConfig, env: NodeJS.ProcessEnv, secrets: SecretsManagerClient): { slack?: SlackDeps } {
  return config.slack ? { slack: slackDeps(config.slack, slackSecretLoader(secrets, requireEnv(ENV.slackSecretId, env)), optionalEnv(ENV.slackApiUrl, env)) } : {};
}

/**
 * Everything the request, respond and expire functions use. `channels: false` for a function that reaches no
 * reviewer (settle ends requests; the conclude function tells the reviewers): no Slack credentials.
 */
export function reviewDepsFromEnv(fn: string, env: NodeJS.ProcessEnv, clients: ReviewClients, { channels = true }: { channels?: boolean } = {}): ReviewDeps {
  const store = storeDepsFromEnv(fn, env, clients);
  return {
    ...store,
    ...(channels ? slackDepsFromEnv(store.config, env, clients.secrets) : {}),
    sfn: clients.sfn,
    ses: clients.ses,
    scheduler: clients.scheduler,
    schedules: {
      groupName: requireEnv(ENV.scheduleGroup, env),
      roleArn: requireEnv(ENV.schedulerRoleArn, env),
      expireFunctionArn: requireEnv(ENV.expireFunctionArn, env),
      dlqArn: requireEnv(ENV.scheduleDlqArn, env),
    },
    baseUrl: requireEnv(ENV.baseUrl, env).replace(/\/+$/, ''),
    keyRing: keyRingLoader(clients.secrets, requireEnv(ENV.signingSecretId, env)),
  };
}
