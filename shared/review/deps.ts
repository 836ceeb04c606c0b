/**
 * What the review services need, passed in rather than imported, so the route, request, respond and
 * expire functions (and tests) share the services and differ only in how they build this object
 * (shared/deps-env.ts builds it from a function's environment).
 */
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SESClient } from '@aws-sdk/client-ses';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { Log } from '../clients.ts';
import type { DeploymentConfig } from '../schemas/config.ts';
import type { ScheduleSettings } from '../schedules.ts';
import type { KeyRing } from '../signing.ts';
import type { KeyRingLoadOptions } from '../signing-keys.ts';
import type { DecisionLog } from '../store/decision-log.ts';
import type { Ledger } from '../store/ledger.ts';
import type { RequestStore } from '../store/requests.ts';
import type { ReviewChannel } from './channel.ts';
import type { DecisionEvents } from './decision-event.ts';

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
  /** The channels the deployment config enables, in order (email first); none for a function that reaches nobody. */
  channels: readonly Channel[];
}

/** What the conclude function has: no scheduler, no signing keys, no execution to resume. */
export type ConcludeDeps = Pick<StoreDeps, 'config' | 'requests' | 'log' | 'now'> & Pick<ReviewDeps, 'ses' | 'channels'>;

/** A channel of this deployment (channel.ts). */
export type Channel = ReviewChannel<ReviewDeps, ConcludeDeps>;

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
