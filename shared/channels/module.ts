/** How a channel module offers its channel to the registry (registry.ts). */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Channel } from '../review/deps.ts';
import type { DeploymentConfig } from '../schemas/config.ts';

export interface ChannelModule {
  /** It reads credentials of its own (a secret named in the function's environment). */
  readonly ownSecret: boolean;
  /** The channel as the config sets it up; undefined when the config leaves it off. Fails loudly on a missing variable. */
  fromEnv(config: DeploymentConfig, env: NodeJS.ProcessEnv, secrets: SecretsManagerClient): Channel | undefined;
}
