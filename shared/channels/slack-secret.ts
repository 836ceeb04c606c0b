/**
 * The Slack app's credentials from Secrets Manager, `{"botToken":"xoxb-…","signingSecret":"…"}`, read on
 * first use and cached for five minutes (a rotated secret is picked up within that time).
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { ConfigError } from '../errors.ts';

export const SlackSecret = z.object({
  botToken: z.string().regex(/^xox[a-z]-/, 'botToken must be a Slack bot token (xoxb-…)'),
  signingSecret: z.string().min(16, 'signingSecret must be the app\'s signing secret (Basic Information → App Credentials)'),
});
export type SlackSecret = z.infer<typeof SlackSecret>;

const TTL_MS = 5 * 60_000;

export function slackSecretLoader(client: SecretsManagerClient, secretId: string, now: () => number = Date.now): () => Promise<SlackSecret> {
  let cached: { secret: SlackSecret; at: number } | undefined;
  let inFlight: Promise<SlackSecret> | undefined;
  async function read(): Promise<SlackSecret> {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    let json: unknown;
    try {
      json = JSON.parse(out.SecretString ?? '');
    } catch {
      throw new ConfigError(`Secret ${secretId} is not JSON; store {"botToken":"xoxb-…","signingSecret":"…"}`);
    }
    const parsed = SlackSecret.safeParse(json);
    if (!parsed.success) throw new ConfigError(`Secret ${secretId}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    return parsed.data;
  }
  return async () => {
    if (cached && now() - cached.at < TTL_MS) return cached.secret;
    inFlight ??= read()
      .then((secret) => {
        cached = { secret, at: now() };
        return secret;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };
}
