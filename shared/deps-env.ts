/**
 * The review services' deps (shared/review/deps.ts) from a function's environment, read once at cold start:
 * the config, the tables, the clients and the channels the config turns on. Fails loudly when something is
 * missing.
 */
import { createLogger, createMetrics, documentClient } from './clients.ts';
import { decodeConfigEnv } from './config-env.ts';
import { ENV, optionalEnv, requireEnv } from './env.ts';
import { channelsFromEnv } from './channels/registry.ts';
import { decisionEventsFor } from './review/decision-event.ts';
import type { ConcludeDeps, ReviewClients, ReviewDeps, StoreClients, StoreDeps } from './review/deps.ts';
import { parseDeploymentConfig, type DeploymentConfig } from './schemas/config.ts';
import { keyRingLoader } from './signing-keys.ts';
import { DecisionLog } from './store/decision-log.ts';
import { Ledger } from './store/ledger.ts';
import { RequestStore } from './store/requests.ts';

function configFromEnv(text: string): DeploymentConfig {
  return parseDeploymentConfig(decodeConfigEnv(text, ENV.config), ENV.config);
}

/** Config and tables from the environment. */
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

/**
 * Everything the request, respond and expire functions use. `channels: false` for a function that reaches no
 * reviewer (settle ends requests; the conclude function tells the reviewers): no channel credentials.
 */
export function reviewDepsFromEnv(fn: string, env: NodeJS.ProcessEnv, clients: ReviewClients, { channels = true }: { channels?: boolean } = {}): ReviewDeps {
  const store = storeDepsFromEnv(fn, env, clients);
  return {
    ...store,
    channels: channelsFromEnv(store.config, env, clients.secrets, { credentials: channels }),
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

/** The conclude function's: the tables, SES and every channel (each shows the outcome in its own way). */
export function concludeDepsFromEnv(env: NodeJS.ProcessEnv, clients: StoreClients & Pick<ReviewClients, 'ses' | 'secrets'>): ConcludeDeps {
  const store = storeDepsFromEnv('conclude', env, clients);
  return { ...store, ses: clients.ses, channels: channelsFromEnv(store.config, env, clients.secrets) };
}
