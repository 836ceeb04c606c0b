/**
 * The channels a deployment can have, and the ones its config turns on. The only place that names them: a
 * new channel is a module implementing ReviewChannel (shared/review/channel.ts) with a `ChannelModule`,
 * listed here. Read once per function, where its config is read (shared/deps-env.ts).
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DeploymentConfig } from '../schemas/config.ts';
import type { Channel } from '../review/deps.ts';
import { emailChannelModule } from './email.ts';
import type { ChannelModule } from './module.ts';
import { slackChannelModule } from './slack.ts';

/** In delivery order: the first channel's error is the one a round that reached nobody throws. */
export const CHANNEL_MODULES: readonly ChannelModule[] = [emailChannelModule, slackChannelModule];

/**
 * The config's channels. `credentials: false` for a function that reaches no reviewer (settle ends requests;
 * the conclude function tells the reviewers): no channel with a secret of its own, so none is granted.
 */
export function channelsFromEnv(config: DeploymentConfig, env: NodeJS.ProcessEnv, secrets: SecretsManagerClient, { credentials = true }: { credentials?: boolean } = {}): Channel[] {
  return CHANNEL_MODULES.flatMap((m) => (m.ownSecret && !credentials ? [] : (m.fromEnv(config, env, secrets) ?? [])));
}
