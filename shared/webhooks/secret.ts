/** The webhook signing secret from Secrets Manager, read once per `ttlMs` by a warm function. */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../errors.ts';

export function webhookSecretLoader(client: Pick<SecretsManagerClient, 'send'>, secretId: string, ttlMs = 5 * 60_000, now: () => number = Date.now): () => Promise<string> {
  let cached: { value: string; at: number } | undefined;
  return async () => {
    if (cached && now() - cached.at < ttlMs) return cached.value;
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (typeof out.SecretString !== 'string' || out.SecretString.trim() === '') throw new ConfigError(`Secret ${secretId} has no SecretString; store the webhook signing secret as text`);
    cached = { value: out.SecretString.trim(), at: now() };
    return cached.value;
  };
}
