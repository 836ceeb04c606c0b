/**
 * Loads the link signing key ring from Secrets Manager and caches it, so a warm function reads the secret
 * once per `ttlMs` rather than once per request, and picks up a rotated key within that time.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from './errors.ts';
import { parseKeyRing, type KeyRing } from './signing.ts';

export const DEFAULT_KEY_RING_TTL_MS = 5 * 60_000;
/** A forced refresh (for a link signed with a key this instance has not seen yet) happens at most this often. */
export const MIN_FORCED_REFRESH_MS = 10_000;

export interface KeyRingLoadOptions {
  /**
   * Re-read the secret now, e.g. after `verifyLink` threw `unknown-key`: another instance may already sign with a
   * key added by a rotation. Rate-limited, so links with made-up key ids cannot hammer Secrets Manager.
   */
  refresh?: boolean;
}

/**
 * A cached loader: the first call reads the secret, later calls reuse it until `ttlMs` has passed. Concurrent
 * callers share one read. If a refresh fails while a previous ring is cached, the previous ring is served
 * and the next call tries again; with nothing cached the error propagates.
 */
export function keyRingLoader(
  client: SecretsManagerClient,
  secretId: string,
  ttlMs: number = DEFAULT_KEY_RING_TTL_MS,
  now: () => number = Date.now,
): (options?: KeyRingLoadOptions) => Promise<KeyRing> {
  let cached: { ring: KeyRing; loadedAt: number } | undefined;
  let inFlight: Promise<KeyRing> | undefined;

  async function read(): Promise<KeyRing> {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    if (typeof out.SecretString !== 'string') {
      throw new ConfigError(`Secret ${secretId} has no SecretString; store the key ring as JSON text`);
    }
    return parseKeyRing(out.SecretString);
  }

  function load(): Promise<KeyRing> {
    inFlight ??= read()
      .then((ring) => {
        cached = { ring, loadedAt: now() };
        return ring;
      })
      .catch((error: unknown) => {
        if (cached && !(error instanceof ConfigError)) return cached.ring;
        throw error;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  }

  return async (options) => {
    if (!cached) return load();
    const age = now() - cached.loadedAt;
    if (age >= ttlMs || (options?.refresh === true && age >= MIN_FORCED_REFRESH_MS)) return load();
    return cached.ring;
  };
}
